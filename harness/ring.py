"""A byte ring in shared memory: the machine's process writes frames, the watching parent reads them.

Why shared memory and not a pipe: a write is a memory copy, no system call, so the machine can
send every trace record as it is made; and the memory is the parent's too, so whatever the
child had written before it crashed is still there to read after it died.

One writer process (its threads take a lock) and one reader process. The head (bytes written
in all) and the tail (bytes read in all) are 64-bit counters on cache lines of their own; the
writer publishes a frame by storing the new head after the bytes, and the reader reads the head
before the bytes. x86-64 keeps stores in order and loads in order (total store order), which is
all this needs; the harness runs on x86-64 only (the shim's exception code is x86-64 assembly).

A frame is a 32-bit length and that many bytes. The writer streams a frame bigger than the ring
in pieces, waiting for the reader to make room, so frames of any size go through; the reader
keeps the bytes of a frame not yet complete until the rest arrives.
"""

from __future__ import annotations

import mmap
import struct
import threading
import time

_COUNTER = struct.Struct("<Q")
_LENGTH = struct.Struct("<I")
_HEAD, _TAIL = 0, 64
HEADER_BYTES = 128
CAPACITY = 1 << 22  # 4 MiB: about 40,000 trace records before the writer waits for the reader
_WAIT_SECONDS = 0.0002


class Ring:
    """Made before the fork; ``put`` in the child, ``take`` in the parent."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.memory = mmap.mmap(-1, HEADER_BYTES + capacity)  # anonymous and MAP_SHARED: both processes see it
        self._view = memoryview(self.memory)
        self._lock = threading.Lock()
        self._head = 0  # the writer's own copy: only it moves the head
        self._tail = 0  # the reader's own copy: only it moves the tail
        self._pending = bytearray()

    # --- the writer (the machine's process) ----------------------------------------------
    def put(self, payload: bytes) -> None:
        """Append one frame; waits while the ring is full (the reader is behind)."""
        data = _LENGTH.pack(len(payload)) + payload
        capacity, view, memory = self.capacity, self._view, self.memory
        with self._lock:
            head, done, size = self._head, 0, len(data)
            while done < size:
                room = capacity - (head - _COUNTER.unpack_from(memory, _TAIL)[0])
                if room == 0:
                    time.sleep(_WAIT_SECONDS)
                    continue
                count = min(room, size - done)
                start = head % capacity
                first = min(count, capacity - start)
                view[HEADER_BYTES + start:HEADER_BYTES + start + first] = data[done:done + first]
                if count > first:
                    view[HEADER_BYTES:HEADER_BYTES + count - first] = data[done + first:done + count]
                head += count
                done += count
                _COUNTER.pack_into(memory, _HEAD, head)  # after the bytes: publishes them
            self._head = head

    # --- the reader (the parent) -----------------------------------------------------------
    def take(self) -> list[bytes]:
        """Every frame complete now, oldest first; the room they took is given back to the writer."""
        head = _COUNTER.unpack_from(self.memory, _HEAD)[0]
        tail = self._tail
        if head != tail:
            capacity, view = self.capacity, self._view
            start, count = tail % capacity, head - tail
            first = min(count, capacity - start)
            self._pending += view[HEADER_BYTES + start:HEADER_BYTES + start + first]
            if count > first:
                self._pending += view[HEADER_BYTES:HEADER_BYTES + count - first]
            self._tail = head
            _COUNTER.pack_into(self.memory, _TAIL, head)
        return self._frames()

    def _frames(self) -> list[bytes]:
        pending, frames, at = self._pending, [], 0
        while len(pending) - at >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(pending, at)
            if len(pending) - at - _LENGTH.size < length:
                break
            frames.append(bytes(pending[at + _LENGTH.size:at + _LENGTH.size + length]))
            at += _LENGTH.size + length
        if at:
            del pending[:at]
        return frames

    @property
    def unread(self) -> int:
        """Bytes of an incomplete frame the reader holds (a frame the writer died in the middle of)."""
        return len(self._pending)

    def close(self) -> None:
        self._view.release()
        self.memory.close()
