"""Registry scripts' device commands: the user-mode half of a driver that reports through a device.

    opendevice PATH [access=MASK] as NAME    CreateFile: \\\\.\\Name, \\??\\Name or \\Device\\Name
    ioctl NAME CODE [in=hex:01,02,..|in="text"] [out=LEN]
                                            DeviceIoControl; prints the status, IoStatus.Information and
                                            the output (hex, and as text if it is UTF-16 text)
    closedevice NAME                        CloseHandle (IRP_MJ_CLEANUP, IRP_MJ_CLOSE)

CODE is a number (0x222000) or CTL_CODE(DEVICE_TYPE, FUNCTION, METHOD, ACCESS) with numbers or the
header's names (FILE_DEVICE_UNKNOWN, METHOD_BUFFERED, FILE_READ_ACCESS ...). in="text" is the text
as UTF-16 without a terminator. A failed open leaves NAME unbound: later commands on it get
STATUS_INVALID_HANDLE. The requests run as the script's current caller (``as PID IMAGE``), in user
mode; an ioctl waits for a pending request to complete, as DeviceIoControl does without OVERLAPPED.
"""

from __future__ import annotations

import re

import ntddk_py
from ntddk_py import STATUS_INVALID_HANDLE, STATUS_OBJECT_NAME_NOT_FOUND, STATUS_SUCCESS, status_name

from .devices import DEFAULT_ACCESS, IoError
from .script import NAME, Command, Line, Runner, Step, _mask, _split, _unquote, command

HEX_SHOWN = 64  # output bytes an ioctl prints in hex at most
MAX_OUTPUT = 1 << 24  # out=LEN at most (16 MiB): a script's buffer, not a memory test
_CTL_CODE = re.compile(r"CTL_CODE\((.*)\)$", re.IGNORECASE)


def _number(text: str, line: Line) -> int:
    text = text.strip()
    if re.fullmatch(r"0[xX][0-9A-Fa-f]+|[0-9]+", text):
        return int(text, 0)
    named = getattr(ntddk_py, text, None)
    if isinstance(named, int) and not isinstance(named, bool):
        return int(named)
    raise line.error(f"{text!r} is no number and no constant of the header")


def _code(text: str, line: Line) -> int:
    match = _CTL_CODE.match(text)
    if match is None:
        code = _number(text, line)
    else:
        parts = [_number(part, line) for part in match.group(1).split(",")]
        if len(parts) != 4:
            raise line.error("CTL_CODE takes four parts: DEVICE_TYPE, FUNCTION, METHOD, ACCESS")
        device_type, function, method, access = parts
        code = (device_type << 16) | (access << 14) | (function << 2) | method
    if not 0 <= code <= 0xFFFFFFFF:
        raise line.error(f"the control code {text} does not fit a ULONG")
    return code


def _handles(runner: Runner) -> dict:
    return runner.devices


def _kernel():
    from .kernel import active_kernel  # the kernel the script's machine runs (none: a bare registry)

    return active_kernel()


@command("opendevice")
class OpenDevice(Command):
    usage = "opendevice PATH [access=MASK] as NAME, e.g. opendevice \\\\.\\CmhookMonitor as monitor"

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) < 3 or words[-2] != "as" or not NAME.match(words[-1]):
            raise line.error(self.usage)
        access = DEFAULT_ACCESS
        for word in words[1:-2]:
            if not word.startswith("access="):
                raise line.error(f"unexpected {word!r}")
            access = _mask(word[7:], line.where)
        return line.step(path=_unquote(words[0], line.where), access=access, bind=words[-1])

    def run(self, runner: Runner, step: Step) -> int:
        kernel = _kernel()
        if kernel is None:
            runner.fail(step, "no kernel runs drivers here: nothing has devices")
            return STATUS_OBJECT_NAME_NOT_FOUND
        try:
            handle = kernel.open_device(step.args["path"], access=step.args["access"])
        except IoError as error:
            return error.status
        old = _handles(runner).pop(step.args["bind"], None)
        if old is not None:
            old.close()
        _handles(runner)[step.args["bind"]] = handle
        return STATUS_SUCCESS


@command("ioctl")
class Ioctl(Command):
    usage = "ioctl NAME CODE [in=hex:01,02|in=\"text\"] [out=LEN]"

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) < 2 or not NAME.match(words[0]):
            raise line.error(self.usage)
        data, out = b"", 0
        for word in words[2:]:
            if word.startswith("in=hex:"):
                try:
                    data = bytes(int(part, 16) for part in word[7:].replace("\\", "").split(",") if part)
                except ValueError:
                    raise line.error(f"in=hex: takes bytes in hex separated by commas, not {word[7:]!r}") from None
            elif word.startswith('in="'):
                data = _unquote(word[3:], line.where).encode("utf-16-le", "surrogatepass")
            elif word.startswith("out="):
                out = _number(word[4:], line)
                if out > MAX_OUTPUT:
                    raise line.error(f"out={out} is over the {MAX_OUTPUT} bytes a script's buffer may have")
            else:
                raise line.error(f"unexpected {word!r} ({self.usage})")
        return line.step(device=words[0], code=_code(words[1], line), input=data, out=out)

    def run(self, runner: Runner, step: Step) -> int:
        a = step.args
        handle = _handles(runner).get(a["device"])
        if handle is None:
            return STATUS_INVALID_HANDLE
        result = handle.device_io_control(a["code"], a["input"], a["out"])
        runner.say(f"ioctl {a['device']} 0x{a['code']:08X}: {status_name(result.status)}, "
                   f"Information {result.information}, {len(result.output)} bytes out")
        if result.output:
            shown = result.output[:HEX_SHOWN]
            more = f" ... ({len(result.output) - HEX_SHOWN} more)" if len(result.output) > HEX_SHOWN else ""
            runner.say("  hex: " + " ".join(f"{byte:02x}" for byte in shown) + more)
            text = _text(result.output)
            if text is not None:
                for text_line in text.splitlines():
                    runner.say(f"  text: {text_line}")
        return result.status


def _text(data: bytes) -> str | None:
    """The output as UTF-16 text, if it is: an even length, and printable once trailing NULs go."""
    if len(data) % 2:
        return None
    try:
        text = data.decode("utf-16-le").rstrip("\0")
    except UnicodeDecodeError:
        return None
    return text if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text) else None


@command("closedevice")
class CloseDevice(Command):
    usage = "closedevice NAME"

    def parse(self, args: str, line: Line) -> Step:
        if not NAME.match(args.strip()):
            raise line.error(self.usage)
        return line.step(device=args.strip())

    def run(self, runner: Runner, step: Step) -> int:
        handle = _handles(runner).pop(step.args["device"], None)
        if handle is None:
            return STATUS_INVALID_HANDLE
        handle.close()
        return STATUS_SUCCESS

