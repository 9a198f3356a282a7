"""The shared-memory ring that carries a machine's reports to its parent (harness/ring.py)."""

from __future__ import annotations

import os
import random
import threading

from harness.ring import Ring


def _drain(ring: Ring, count: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < count:
        got += ring.take()
    return got


def test_frames_come_out_whole_and_in_order_across_the_wrap():
    ring = Ring(capacity=64)
    sent = [bytes([n % 251]) * random.Random(n).randrange(0, 40) for n in range(500)]
    writer = threading.Thread(target=lambda: [ring.put(frame) for frame in sent])
    writer.start()
    got = _drain(ring, len(sent))
    writer.join()
    assert got == sent and ring.unread == 0


def test_a_frame_bigger_than_the_ring_goes_through_in_pieces():
    ring = Ring(capacity=256)
    big = os.urandom(10_000)
    writer = threading.Thread(target=ring.put, args=(big,))
    writer.start()
    assert _drain(ring, 1) == [big]
    writer.join()


def test_what_a_dead_writer_wrote_is_still_read():
    ring = Ring(capacity=1 << 16)
    pid = os.fork()
    if pid == 0:
        for n in range(100):
            ring.put(b"record %d" % n)
        os._exit(0)
    os.waitpid(pid, 0)
    assert ring.take() == [b"record %d" % n for n in range(100)]


def test_a_frame_cut_off_by_the_writers_death_is_held_not_returned():
    ring = Ring(capacity=1 << 12)
    pid = os.fork()
    if pid == 0:
        ring.put(b"whole")
        # Only the first half of a frame: its length and some bytes, as a crash mid-write leaves it.
        frame = (100).to_bytes(4, "little") + b"x" * 10
        ring._view[128 + 9:128 + 9 + len(frame)] = frame
        ring.memory[0:8] = (9 + len(frame)).to_bytes(8, "little")
        os._exit(0)
    os.waitpid(pid, 0)
    assert ring.take() == [b"whole"] and ring.unread == 14
