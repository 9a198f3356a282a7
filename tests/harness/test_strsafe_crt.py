"""ntstrsafe's printf family, the kernel's 16-bit C runtime and the Rtl conversions, as a filter
built with gcc or clang meets them: Windows' reading of the format, its truncation and its
statuses, WCHAR strings that never reach the C library's 32-bit wchar_t routines, pool-tracked
allocations, and the active profile's Windows version."""

from __future__ import annotations

import subprocess

import cffi
import pytest
from helpers import DRIVERS

from harness.kernel import DriverError
from ntddk_py import (
    STATUS_ACCESS_VIOLATION,
    STATUS_BUFFER_OVERFLOW,
    STATUS_INVALID_PARAMETER,
    STATUS_REVISION_MISMATCH,
    STATUS_SUCCESS,
)

NTSTRSAFE_MAX_CCH = 2147483647
EINVAL, ERANGE, STRUNCATE = 22, 34, 80
TRUNCATE = 2**64 - 1

_DECLARATIONS = """
NTSTATUS CchVPrintfW(WCHAR *, size_t, const WCHAR *, ...); NTSTATUS CbVPrintfW(WCHAR *, size_t, const WCHAR *, ...);
NTSTATUS CchVPrintfA(CHAR *, size_t, const CHAR *, ...); NTSTATUS CbVPrintfA(CHAR *, size_t, const CHAR *, ...);
int SnwPrintf(WCHAR *, size_t, const WCHAR *, ...); int SnPrintf(char *, size_t, const char *, ...);
NTSTATUS UnicodeVPrintf(PUNICODE_STRING, const WCHAR *, ...);
NTSTATUS LiteralCchPrintfW(WCHAR *, size_t); NTSTATUS LiteralCbPrintfW(WCHAR *, size_t);
NTSTATUS LiteralCchPrintfA(CHAR *, size_t); NTSTATUS LiteralCbPrintfA(CHAR *, size_t);
NTSTATUS LiteralUnicodePrintf(PUNICODE_STRING); int LiteralSnprintf(char *, size_t);
int LiteralSnwprintf(WCHAR *, size_t); int LiteralSwprintf(WCHAR *); size_t WcslenOfAbc(void);
size_t CallWcslen(const WCHAR *); size_t CallWcsnlen(const WCHAR *, size_t);
WCHAR *CallWcscpy(WCHAR *, const WCHAR *); WCHAR *CallWcsncpy(WCHAR *, const WCHAR *, size_t);
WCHAR *CallWcscat(WCHAR *, const WCHAR *); WCHAR *CallWcsncat(WCHAR *, const WCHAR *, size_t);
int CallWcscmp(const WCHAR *, const WCHAR *); int CallWcsncmp(const WCHAR *, const WCHAR *, size_t);
int CallWcsicmp(const WCHAR *, const WCHAR *); int CallWcsnicmp(const WCHAR *, const WCHAR *, size_t);
WCHAR *CallWcschr(const WCHAR *, WCHAR); WCHAR *CallWcsrchr(const WCHAR *, WCHAR);
WCHAR *CallWcsstr(const WCHAR *, const WCHAR *); WCHAR *CallWcslwr(WCHAR *); WCHAR *CallWcsupr(WCHAR *);
unsigned CallTowlower(unsigned); unsigned CallTowupper(unsigned);
int CallWcscpyS(WCHAR *, size_t, const WCHAR *); int CallWcsncpyS(WCHAR *, size_t, const WCHAR *, size_t);
int CallWcscatS(WCHAR *, size_t, const WCHAR *);
int CallStricmp(const char *, const char *); int CallStrnicmp(const char *, const char *, size_t);
BOOLEAN CallCreateUnicodeString(PUNICODE_STRING, PCWSTR);
NTSTATUS CallDuplicateUnicodeString(ULONG, PCUNICODE_STRING, PUNICODE_STRING);
VOID CallFreeUnicodeString(PUNICODE_STRING);
NTSTATUS GetVersion(RTL_OSVERSIONINFOEXW *, int); NTSTATUS AtLeast(ULONG, ULONG); NTSTATUS BuildIs(ULONG);
NTSTATUS CchCopyExW(WCHAR *, size_t, const WCHAR *, WCHAR **, size_t *, ULONG);
NTSTATUS CbCopyExA(CHAR *, size_t, const CHAR *, CHAR **, size_t *, ULONG);
NTSTATUS CchCatExW(WCHAR *, size_t, const WCHAR *, WCHAR **, size_t *, ULONG);
NTSTATUS CbCatExW(WCHAR *, size_t, const WCHAR *, WCHAR **, size_t *, ULONG);
NTSTATUS CchPrintfExW(WCHAR *, size_t, WCHAR **, size_t *, ULONG);
NTSTATUS CbPrintfExW(WCHAR *, size_t, WCHAR **, size_t *, ULONG);
NTSTATUS CchPrintfExA(CHAR *, size_t, CHAR **, size_t *, ULONG);
"""


class Filter:
    """The strsafe_crt fixture driver, loaded, with its exports and an FFI that makes its arguments."""

    def __init__(self, kernel, module) -> None:
        self.ffi = cffi.FFI()
        self.ffi.include(kernel.ffi)
        self.ffi.cdef(_DECLARATIONS)
        self.lib = self.ffi.dlopen(str(module))
        self.module = module

    def wide(self, text: str, room: int | None = None):
        units = memoryview(text.encode("utf-16-le")).cast("H").tolist() + [0]
        return self.ffi.new("WCHAR[]", units + [0xAAAA] * max(0, (room or 0) - len(units)))

    def narrow(self, text: bytes, room: int | None = None):
        return self.ffi.new("char[]", text + b"\0" + b"\xaa" * max(0, (room or 0) - len(text) - 1))

    def read_wide(self, buffer, count: int | None = None) -> str:
        """The WCHAR text at buffer: count units, else up to the NUL."""
        units = []
        while (count is None and buffer[len(units)] != 0) or (count is not None and len(units) < count):
            units.append(buffer[len(units)])
        return b"".join(unit.to_bytes(2, "little") for unit in units).decode("utf-16-le", "surrogatepass")

    def unicode_string(self, text: str, maximum: int | None = None):
        buffer = self.wide(text, (maximum or 0) // 2)
        keep.append(buffer)
        return self.ffi.new("UNICODE_STRING *", {"Length": 2 * len(text), "Buffer": buffer,
                                                 "MaximumLength": 2 * len(text) + 2 if maximum is None else maximum})

    def ansi_string(self, text: bytes):
        buffer = self.narrow(text)
        keep.append(buffer)
        return self.ffi.new("ANSI_STRING *", {"Length": len(text), "MaximumLength": len(text) + 1, "Buffer": buffer})

    def int(self, value: int):
        return self.ffi.cast("int", value)

    def uint(self, value: int):
        return self.ffi.cast("unsigned int", value)


keep: list[object] = []  # buffers a UNICODE_STRING points to live as long as the test module


@pytest.fixture(params=["gcc", "clang"])
def crt(request, kernel, build_filter) -> Filter:
    module = build_filter(DRIVERS / "strsafe_crt.c", request.param, extra=["-Wextra", "-Werror"])
    kernel.load_driver(module, "strsafe")
    return Filter(kernel, kernel.drivers["strsafe"].module_path)


def _w_format(crt: Filter, fmt: str, *args, room: int = 128) -> str:
    out = crt.wide("", room)
    assert crt.lib.CchVPrintfW(out, room, crt.wide(fmt), *args) == STATUS_SUCCESS
    return crt.read_wide(out)


def _a_format(crt: Filter, fmt: bytes, *args, room: int = 128) -> bytes:
    out = crt.narrow(b"", room)
    assert crt.lib.CchVPrintfA(out, room, crt.narrow(fmt), *args) == STATUS_SUCCESS
    return crt.ffi.string(out)


# --- the 16-bit runtime: bound to the shim, never to the C library ---------------------------

def test_a_filters_wcslen_and_swprintf_are_the_kernels_16_bit_ones(crt):
    """wcslen(L"abc") is 3 and swprintf writes UTF-16 (Microsoft's wcslen and swprintf
    documentation, with wchar_t 16 bits as on Windows); the module imports the shim's symbols,
    not the C library's wcslen or swprintf, whose wchar_t is 32 bits."""
    assert crt.lib.WcslenOfAbc() == 3
    out = crt.wide("", 32)
    assert crt.lib.LiteralSwprintf(out) == len("Key\\Value=7")
    assert crt.ffi.buffer(out, 2 * 12)[:] == "Key\\Value=7\0".encode("utf-16-le")
    imports = subprocess.run(["nm", "-D", "--undefined-only", "--format=just-symbols", str(crt.module)],
                             capture_output=True, text=True, check=True).stdout.split()
    names = {name.split("@")[0] for name in imports}
    assert {"CmhookCrt_wcslen", "CmhookCrt_swprintf", "_wcsicmp", "_vsnwprintf"} <= names
    assert not names & {"wcslen", "swprintf", "wcscpy", "wcscmp", "towlower"}


def test_a_module_calling_the_c_librarys_wcslen_is_refused(kernel, build_filter):
    """A module built without the WDK's headers imports the C library's wcslen (32-bit
    wchar_t): the loader refuses it, naming the routine, instead of letting it miscount."""
    module = build_filter("""
        #include <wchar.h>
        const wchar_t *volatile Text = L"abc";
        long DriverEntry(void *DriverObject, void *RegistryPath)
        { (void)DriverObject; (void)RegistryPath; return (long)wcslen(Text) - 3; }
    """, name="libc_wcslen")
    with pytest.raises(DriverError, match="wcslen"):
        kernel.load_driver(module)


def test_wide_string_routines(crt):
    """wcslen, wcsnlen, wcscpy, wcsncpy, wcscat, wcsncat, wcscmp, wcsncmp, _wcsicmp,
    _wcsnicmp, wcschr, wcsrchr, wcsstr on WCHAR strings (Microsoft's CRT documentation of each;
    case folding is the C locale's, the kernel's: _wcsicmp compares lower-cased ASCII)."""
    lib, w = crt.lib, crt.wide
    assert lib.CallWcslen(w("Software\\Run")) == 12
    assert lib.CallWcslen(w("\U0001F600x")) == 3  # a surrogate pair is two WCHARs
    assert (lib.CallWcsnlen(w("abcdef"), 4), lib.CallWcsnlen(w("ab"), 4)) == (4, 2)
    out = w("", 16)
    assert lib.CallWcscpy(out, w("abc")) == out and crt.read_wide(out) == "abc"
    assert crt.read_wide(lib.CallWcscat(out, w("def"))) == "abcdef"
    assert crt.read_wide(lib.CallWcsncat(out, w("ghij"), 2)) == "abcdefgh"
    padded = w("", 8)
    lib.CallWcsncpy(padded, w("ab"), 5)
    assert [padded[i] for i in range(6)] == [ord("a"), ord("b"), 0, 0, 0, 0xAAAA]  # NUL-padded to 5
    lib.CallWcsncpy(padded, w("wxyz"), 2)
    assert [padded[i] for i in range(3)] == [ord("w"), ord("x"), 0]  # not terminated by wcsncpy itself
    assert lib.CallWcscmp(w("a"), w("b")) < 0 < lib.CallWcscmp(w("b"), w("a"))
    assert lib.CallWcscmp(w("\uFFFF"), w("a")) > 0  # WCHAR is unsigned 16 bits
    assert lib.CallWcsncmp(w("abc"), w("abd"), 2) == 0 != lib.CallWcsncmp(w("abc"), w("abd"), 3)
    assert lib.CallWcsicmp(w("RUN"), w("run")) == 0
    assert lib.CallWcsicmp(w("_"), w("A")) < 0  # '_' (0x5F) against 'a' (0x61): lower case is compared
    assert lib.CallWcsicmp(w("\u00c9"), w("\u00e9")) != 0  # the C locale folds ASCII only
    assert lib.CallWcsnicmp(w("ABCx"), w("abcy"), 3) == 0 != lib.CallWcsnicmp(w("ABCx"), w("abcy"), 4)
    run = w("Software\\Run")
    address = int(crt.ffi.cast("ULONG_PTR", run))

    def offset(pointer) -> int | None:
        return None if pointer == crt.ffi.NULL else (int(crt.ffi.cast("ULONG_PTR", pointer)) - address) // 2

    assert (offset(lib.CallWcschr(run, ord("\\"))), offset(lib.CallWcsrchr(run, ord("u")))) == (8, 10)
    assert (offset(lib.CallWcschr(run, 0)), offset(lib.CallWcschr(run, ord("z")))) == (12, None)
    assert (offset(lib.CallWcsstr(run, w("Run"))), offset(lib.CallWcsstr(run, w("")))) == (9, 0)
    assert offset(lib.CallWcsstr(run, w("Runs"))) is None


def test_case_routines_are_the_c_locales(crt):
    """towlower, towupper, _wcslwr, _wcsupr, _stricmp, _strnicmp: in the C locale (the kernel's
    only one) ASCII letters alone change case (Microsoft's towlower and _wcslwr documentation)."""
    lib = crt.lib
    assert (lib.CallTowlower(ord("A")), lib.CallTowupper(ord("z")), lib.CallTowlower(ord("1"))) == (97, 90, 49)
    assert (lib.CallTowlower(0xC9), lib.CallTowupper(0xE9)) == (0xC9, 0xE9)
    text = crt.wide("Run\u00c9x")
    assert crt.read_wide(lib.CallWcslwr(text)) == "run\u00c9x"
    assert crt.read_wide(lib.CallWcsupr(text)) == "RUN\u00c9X"
    assert lib.CallStricmp(b"Services", b"SERVICES") == 0
    assert lib.CallStricmp(b"_", b"A") < 0 < lib.CallStricmp(b"b", b"A")
    assert lib.CallStrnicmp(b"ABCx", b"abcy", 3) == 0 != lib.CallStrnicmp(b"ABCx", b"abcy", 4)


def test_secure_copies_return_the_crts_error_numbers(crt):
    """wcscpy_s, wcsncpy_s and wcscat_s: 0, EINVAL for a NULL or 0-sized destination or a NULL
    source, ERANGE (destination emptied) when the result does not fit, STRUNCATE for a
    _TRUNCATE copy that was cut (Microsoft's wcscpy_s, wcsncpy_s, wcscat_s documentation)."""
    lib, w, null = crt.lib, crt.wide, crt.ffi.NULL
    out = w("", 8)
    assert lib.CallWcscpyS(out, 8, w("abc")) == 0 and crt.read_wide(out) == "abc"
    assert lib.CallWcscpyS(out, 3, w("abc")) == ERANGE and out[0] == 0
    assert (lib.CallWcscpyS(null, 8, w("abc")), lib.CallWcscpyS(out, 0, w("abc"))) == (EINVAL, EINVAL)
    assert lib.CallWcscpyS(out, 8, null) == EINVAL and out[0] == 0
    assert lib.CallWcsncpyS(out, 8, w("abcdef"), 3) == 0 and crt.read_wide(out) == "abc"
    assert lib.CallWcsncpyS(out, 4, w("abcdef"), TRUNCATE) == STRUNCATE and crt.read_wide(out) == "abc"
    assert lib.CallWcsncpyS(out, 4, w("abcdef"), 5) == ERANGE and out[0] == 0
    assert lib.CallWcscpyS(out, 8, w("ab")) == 0
    assert lib.CallWcscatS(out, 8, w("cd")) == 0 and crt.read_wide(out) == "abcd"
    assert lib.CallWcscatS(out, 6, w("efg")) == ERANGE and out[0] == 0
    unterminated = crt.ffi.new("WCHAR[]", [ord("x")] * 4)
    assert lib.CallWcscatS(unterminated, 4, w("y")) == EINVAL and unterminated[0] == 0


# --- the format, as Windows reads it --------------------------------------------------------

def test_wide_format_strings_and_characters(crt):
    """In a wide format %s and %c take WCHAR, %S and %C CHAR, %hs narrow, %ls and %ws wide,
    %wZ a PUNICODE_STRING, %Z a PANSI_STRING, NULL prints (null) (Microsoft's "Format
    specification syntax" and RtlStringCbPrintfW documentation)."""
    wide, narrow = crt.wide("Run\\\u00e9\u4e2d"), crt.narrow(b"ansi\xe9")
    assert _w_format(crt, "%s|%ws|%ls|%S|%hs", wide, wide, wide, narrow, narrow) == (
        "Run\\\u00e9\u4e2d|" * 3 + "ansi\u00e9|ansi\u00e9")
    assert _w_format(crt, "%wZ|%Z", crt.unicode_string("\\Registry\\Machine"), crt.ansi_string(b"Key")) == (
        "\\Registry\\Machine|Key")
    assert _w_format(crt, "%c%C%hc%wc", crt.int(0x4E2D), crt.int(ord("n")), crt.int(ord("h")), crt.int(ord("w"))) == (
        "\u4e2dnhw")
    null = crt.ffi.NULL
    assert _w_format(crt, "%s|%S|%wZ|%Z", null, null, null, null) == "(null)|(null)|(null)|(null)"


def test_narrow_format_strings_and_characters(crt):
    """In a narrow format %s and %c take CHAR, %S and %C WCHAR; a WCHAR the ANSI code page
    lacks becomes '?' (RtlUnicodeToMultiByteN's default character)."""
    wide, narrow = crt.wide("Wide\u00e9\u4e2d"), crt.narrow(b"narrow")
    assert _a_format(crt, b"%s|%S|%ws|%ls|%hs", narrow, wide, wide, wide, narrow) == (
        b"narrow|" + b"Wide\xe9?|" * 3 + b"narrow")
    assert _a_format(crt, b"%c%C|%wZ|%Z", crt.int(ord("c")), crt.int(ord("C")), crt.unicode_string("U"),
                     crt.ansi_string(b"A")) == b"cC|U|A"


def test_integer_and_pointer_formats(crt):
    """l is 32 bits (long is 32 bits on Windows), I64 and ll 64, I32 32; %p prints the whole
    pointer as 16 upper-case hex digits (Microsoft's "Format specification syntax": size
    prefixes, and %p on 64-bit Windows)."""
    f = crt.ffi
    big = f.cast("unsigned long long", 0x1234_5678_9ABC_DEF0)
    assert _w_format(crt, "%I64x|%I64X|%llx|%I64d|%I64u", big, big, big, f.cast("long long", -2),
                     f.cast("unsigned long long", 2**64 - 1)) == (
        "123456789abcdef0|123456789ABCDEF0|123456789abcdef0|-2|18446744073709551615")
    assert _w_format(crt, "%lu|%lx|%I32x|%hd|%hu", f.cast("unsigned long long", 0x1_0000_0005),
                     f.cast("unsigned long long", 0xFFFF_FFFF_DEAD_BEEF), crt.uint(0xCAFE),
                     crt.int(0x12345), crt.int(-1)) == "5|deadbeef|cafe|9029|65535"
    assert _w_format(crt, "%p|%p", f.cast("void *", 0xABC), f.NULL) == "0000000000000ABC|0000000000000000"
    assert _a_format(crt, b"%p", f.cast("void *", 0xFFFF_8000_0000_1234)) == b"FFFF800000001234"


def test_flags_widths_and_precisions(crt):
    """Flags -, +, space, #, 0; widths and precisions, also from '*' (a negative '*' width is
    '-'); the 0 flag pads strings with zeros as Microsoft's CRT does; an unknown conversion
    prints as written (Microsoft's "Format specification syntax")."""
    f = crt.ffi
    assert _w_format(crt, "[%5d][%-5d][%05d][%+d][% d][%.3d][%#x][%#o][%5.1s]", crt.int(42), crt.int(42),
                     crt.int(-42), crt.int(7), crt.int(7), crt.int(5), crt.uint(255), crt.uint(8),
                     crt.wide("abc")) == "[   42][42   ][-0042][+7][ 7][005][0xff][010][    a]"
    assert _w_format(crt, "[%*d][%-*d][%.*s][%.0d]", crt.int(4), crt.int(1), crt.int(-3), crt.int(2),
                     crt.int(2), crt.wide("wxyz"), crt.int(0)) == "[   1][2  ][wx][]"
    assert _w_format(crt, "[%05s][%%][%q]", crt.wide("ab")) == "[000ab][%][%q]"
    assert _a_format(crt, b"[%-6s][%3c]", crt.narrow(b"ab"), crt.int(ord("z"))) == b"[ab    ][  z]"
    assert _a_format(crt, b"%08X|%x", crt.uint(0xBEEF), f.cast("unsigned int", 0)) == b"0000BEEF|0"


def test_literal_printf_calls(crt):
    """The variadic routines themselves, with the formats in the filter's source."""
    out = crt.wide("", 64)
    assert crt.lib.LiteralCchPrintfW(out, 64) == STATUS_SUCCESS
    assert crt.read_wide(out) == "\\Registry\\Machine|wide|narrow|-5|123456789"
    assert crt.lib.LiteralCbPrintfW(out, 128) == STATUS_SUCCESS and crt.read_wide(out) == "Run-42"
    narrow = crt.narrow(b"", 64)
    assert crt.lib.LiteralCchPrintfA(narrow, 64) == STATUS_SUCCESS
    assert crt.ffi.string(narrow) == b"narrow|wide|ws|nw"
    assert crt.lib.LiteralCbPrintfA(narrow, 64) == STATUS_SUCCESS and crt.ffi.string(narrow) == b"0000BEEF"


# --- truncation and invalid parameters ------------------------------------------------------

def test_printf_truncates_to_fit_and_says_so(crt):
    """A result longer than the destination is cut to cch - 1 characters and NUL-terminated,
    STATUS_BUFFER_OVERFLOW; one that just fits is STATUS_SUCCESS (Microsoft's
    RtlStringCchPrintfW documentation)."""
    out = crt.wide("", 8)
    assert crt.lib.CchVPrintfW(out, 6, crt.wide("%s"), crt.wide("abcdefgh")) == STATUS_BUFFER_OVERFLOW
    assert crt.read_wide(out) == "abcde" and out[6] == 0xAAAA
    assert crt.lib.CchVPrintfW(out, 6, crt.wide("abcde")) == STATUS_SUCCESS and crt.read_wide(out) == "abcde"
    assert crt.lib.CchVPrintfW(out, 1, crt.wide("x")) == STATUS_BUFFER_OVERFLOW and out[0] == 0
    assert crt.lib.CbVPrintfW(out, 9, crt.wide("%d"), crt.int(123456)) == STATUS_BUFFER_OVERFLOW  # 4 WCHARs
    assert crt.read_wide(out) == "123"
    narrow = crt.narrow(b"", 8)
    assert crt.lib.CchVPrintfA(narrow, 4, crt.narrow(b"%s"), crt.narrow(b"abcdef")) == STATUS_BUFFER_OVERFLOW
    assert crt.ffi.string(narrow) == b"abc"
    assert crt.lib.CbVPrintfA(narrow, 7, crt.narrow(b"%s"), crt.narrow(b"abcdef")) == STATUS_SUCCESS
    assert crt.ffi.string(narrow) == b"abcdef"


def test_printf_rejects_a_zero_or_huge_destination(crt):
    """cch 0 or more than NTSTRSAFE_MAX_CCH: STATUS_INVALID_PARAMETER; a huge one still gets an
    empty string, a zero one is not written (Microsoft's RtlStringCchPrintfW documentation)."""
    out = crt.wide("keep", 8)
    assert crt.lib.CchVPrintfW(out, 0, crt.wide("x")) == STATUS_INVALID_PARAMETER and crt.read_wide(out) == "keep"
    assert crt.lib.CbVPrintfW(out, 1, crt.wide("x")) == STATUS_INVALID_PARAMETER and crt.read_wide(out) == "keep"
    assert crt.lib.CchVPrintfW(out, NTSTRSAFE_MAX_CCH + 1, crt.wide("x")) == STATUS_INVALID_PARAMETER
    assert out[0] == 0
    narrow = crt.narrow(b"keep")
    assert crt.lib.CchVPrintfA(narrow, 0, crt.narrow(b"x")) == STATUS_INVALID_PARAMETER
    assert crt.ffi.string(narrow) == b"keep"


def test_unicode_string_printf(crt):
    """RtlUnicodeStringPrintf fills up to MaximumLength and sets Length, also when it cuts the
    text (STATUS_BUFFER_OVERFLOW); an invalid UNICODE_STRING is STATUS_INVALID_PARAMETER
    (Microsoft's RtlUnicodeStringPrintf documentation)."""
    roomy = crt.unicode_string("", 64)
    assert crt.lib.LiteralUnicodePrintf(roomy) == STATUS_SUCCESS
    assert (roomy.Length, crt.read_wide(roomy.Buffer, roomy.Length // 2)) == (26, "pid 4: System")
    tight = crt.unicode_string("", 10)
    assert crt.lib.LiteralUnicodePrintf(tight) == STATUS_BUFFER_OVERFLOW
    assert (tight.Length, crt.read_wide(tight.Buffer, 5)) == (10, "pid 4")
    exact = crt.unicode_string("", 6)
    assert crt.lib.UnicodeVPrintf(exact, crt.wide("%d"), crt.int(123)) == STATUS_SUCCESS and exact.Length == 6
    odd = crt.unicode_string("", 7)
    assert crt.lib.UnicodeVPrintf(odd, crt.wide("x")) == STATUS_INVALID_PARAMETER


def test_crt_printf_counts(crt):
    """_vsnprintf and _vsnwprintf write at most count characters: a shorter text is terminated
    and its length returned; one of exactly count is not terminated and count is returned; a
    longer one is cut, not terminated, and -1 (Microsoft's _vsnprintf documentation)."""
    out = crt.wide("", 8)
    assert crt.lib.SnwPrintf(out, 8, crt.wide("%s"), crt.wide("abc")) == 3 and crt.read_wide(out) == "abc"
    out = crt.wide("", 8)
    assert crt.lib.SnwPrintf(out, 3, crt.wide("%s"), crt.wide("abc")) == 3 and out[3] == 0xAAAA
    assert crt.lib.SnwPrintf(out, 2, crt.wide("%s"), crt.wide("xyz")) == -1
    assert crt.read_wide(out, 3) == "xyc"
    narrow = crt.narrow(b"", 8)
    assert crt.lib.SnPrintf(narrow, 8, crt.narrow(b"%d"), crt.int(-17)) == 3 and crt.ffi.string(narrow) == b"-17"
    assert crt.lib.SnPrintf(narrow, 2, crt.narrow(b"%d"), crt.int(987)) == -1 and crt.ffi.string(narrow) == b"987"
    assert crt.lib.SnPrintf(narrow, 4, crt.narrow(b"%5000d"), crt.int(1)) == -1  # no DbgPrint line limit here
    assert crt.lib.LiteralSnprintf(narrow, 8) == 3 and crt.ffi.string(narrow) == b"x=5"
    assert crt.lib.LiteralSnwprintf(out, 8) == 3 and crt.read_wide(out) == "x=5"


# --- the Ex forms ---------------------------------------------------------------------------

STRSAFE_IGNORE_NULLS, STRSAFE_FILL_BEHIND_NULL, STRSAFE_FILL_ON_FAILURE = 0x100, 0x200, 0x400
STRSAFE_NULL_ON_FAILURE, STRSAFE_NO_TRUNCATION = 0x800, 0x1000


def test_ex_forms_report_the_end_and_what_remains(crt):
    """*ppszDestEnd is the terminating NUL, *pcchRemaining the unused characters with that NUL
    (*pcbRemaining in bytes, cbDest's odd byte included), also after a truncation
    (Microsoft's RtlStringCchCopyExW, RtlStringCbCatExW and RtlStringCchPrintfExW documentation)."""
    lib, ffi = crt.lib, crt.ffi
    end, remaining = ffi.new("WCHAR **"), ffi.new("size_t *")
    out = crt.wide("", 8)
    assert lib.CchCopyExW(out, 8, crt.wide("abc"), end, remaining, 0) == STATUS_SUCCESS
    assert (end[0] == out + 3, remaining[0], crt.read_wide(out)) == (True, 5, "abc")
    assert lib.CchCopyExW(out, 4, crt.wide("abcdefgh"), end, remaining, 0) == STATUS_BUFFER_OVERFLOW
    assert (end[0] == out + 3, remaining[0], crt.read_wide(out)) == (True, 1, "abc")
    assert lib.CchCopyExW(out, 8, crt.wide("ab"), ffi.NULL, ffi.NULL, 0) == STATUS_SUCCESS
    assert lib.CchCatExW(out, 8, crt.wide("cd"), end, remaining, 0) == STATUS_SUCCESS
    assert (end[0] == out + 4, remaining[0], crt.read_wide(out)) == (True, 4, "abcd")
    # 11 bytes: 5 WCHARs (the NUL's the only room left) and an odd byte, counted in what remains
    assert lib.CbCatExW(out, 11, crt.wide("e"), end, remaining, 0) == STATUS_BUFFER_OVERFLOW
    assert (crt.read_wide(out), end[0] == out + 4, remaining[0]) == ("abcd", True, 3)
    assert lib.CbCatExW(out, 13, crt.wide("e"), end, remaining, 0) == STATUS_SUCCESS
    assert (crt.read_wide(out), end[0] == out + 5, remaining[0]) == ("abcde", True, 3)
    narrow, narrow_end = crt.narrow(b"", 8), ffi.new("CHAR **")
    assert lib.CbCopyExA(narrow, 7, crt.narrow(b"abc"), narrow_end, remaining, 0) == STATUS_SUCCESS
    assert (narrow_end[0] == narrow + 3, remaining[0]) == (True, 4)
    assert lib.CchPrintfExW(out, 8, end, remaining, 0) == STATUS_SUCCESS
    assert (crt.read_wide(out), end[0] == out + 6, remaining[0]) == ("key-12", True, 2)
    assert lib.CchPrintfExW(out, 4, end, remaining, 0) == STATUS_BUFFER_OVERFLOW
    assert (crt.read_wide(out), end[0] == out + 3, remaining[0]) == ("key", True, 1)
    assert lib.CbPrintfExW(out, 16, end, remaining, 0) == STATUS_SUCCESS and remaining[0] == 4
    assert lib.CchPrintfExA(narrow, 8, narrow_end, remaining, 0) == STATUS_SUCCESS
    assert (ffi.string(narrow), remaining[0]) == (b"wide", 4)


def test_ex_flags(crt):
    """STRSAFE_FILL_BEHIND_NULL fills what follows the NUL with the low byte; on failure
    STRSAFE_FILL_ON_FAILURE fills the buffer (terminated), STRSAFE_NULL_ON_FAILURE empties it,
    STRSAFE_NO_TRUNCATION empties a copy and restores a Cat's destination; STRSAFE_IGNORE_NULLS
    reads a NULL source as ""; an unknown flag is STATUS_INVALID_PARAMETER (Microsoft's
    RtlStringCchCopyExW and RtlStringCchCatExW documentation)."""
    lib, ffi = crt.lib, crt.ffi
    end, remaining = ffi.new("WCHAR **"), ffi.new("size_t *")
    out = crt.wide("", 8)
    assert lib.CchCopyExW(out, 6, crt.wide("ab"), end, remaining, STRSAFE_FILL_BEHIND_NULL | 0x41) == STATUS_SUCCESS
    assert [out[i] for i in range(7)] == [ord("a"), ord("b"), 0, 0x4141, 0x4141, 0x4141, 0xAAAA]
    assert lib.CchCopyExW(out, 4, crt.wide("abcdef"), end, remaining, STRSAFE_FILL_ON_FAILURE | 0x2A) == (
        STATUS_BUFFER_OVERFLOW)
    assert [out[i] for i in range(4)] == [0x2A2A, 0x2A2A, 0x2A2A, 0] and (end[0] == out + 3, remaining[0]) == (True, 1)
    assert lib.CchCopyExW(out, 4, crt.wide("abcdef"), end, remaining, STRSAFE_NULL_ON_FAILURE) == (
        STATUS_BUFFER_OVERFLOW)
    assert (out[0], end[0] == out, remaining[0]) == (0, True, 4)
    assert lib.CchCopyExW(out, 4, crt.wide("abcdef"), end, remaining, STRSAFE_NO_TRUNCATION) == STATUS_BUFFER_OVERFLOW
    assert out[0] == 0
    assert lib.CchCopyExW(out, 8, crt.wide("ab"), end, remaining, 0) == STATUS_SUCCESS
    assert lib.CchCatExW(out, 4, crt.wide("cdef"), end, remaining, STRSAFE_NO_TRUNCATION) == STATUS_BUFFER_OVERFLOW
    assert (crt.read_wide(out), end[0] == out + 2, remaining[0]) == ("ab", True, 2)
    assert lib.CchCatExW(out, 4, crt.wide("cdef"), end, remaining, 0) == STATUS_BUFFER_OVERFLOW
    assert crt.read_wide(out) == "abc"
    assert lib.CchCopyExW(out, 8, ffi.NULL, end, remaining, STRSAFE_IGNORE_NULLS) == STATUS_SUCCESS
    assert (out[0], remaining[0]) == (0, 8)
    assert lib.CchCopyExW(ffi.NULL, 0, ffi.NULL, end, remaining, STRSAFE_IGNORE_NULLS) == STATUS_SUCCESS
    assert lib.CchCopyExW(out, 0, crt.wide("a"), end, remaining, 0) == STATUS_INVALID_PARAMETER
    out[0] = ord("x")
    assert lib.CchCopyExW(out, 8, crt.wide("a"), end, remaining, 0x10000) == STATUS_INVALID_PARAMETER
    assert out[0] == 0
    assert lib.CchPrintfExW(out, 4, end, remaining, STRSAFE_NULL_ON_FAILURE) == STATUS_BUFFER_OVERFLOW
    assert (out[0], remaining[0]) == (0, 4)


# --- Rtl conversions and numbers ------------------------------------------------------------

def _pool_tags(kernel) -> list[str]:
    return sorted(allocation.tag_text for allocation in kernel.pool.values())


def test_unicode_to_ansi_and_back(kernel, crt):
    """RtlUnicodeStringToAnsiString and RtlAnsiStringToUnicodeString: with
    AllocateDestinationString a pool buffer of the length and a NUL (freed by RtlFreeAnsiString /
    RtlFreeUnicodeString), without it STATUS_BUFFER_OVERFLOW when the text and its NUL do not fit
    (Microsoft's documentation of both; the ANSI conversion cuts to fit, as Windows does)."""
    r, f = kernel.routines, kernel.ffi
    ansi = f.new("ANSI_STRING *")
    source = crt.unicode_string("Run\u00e9\u4e2d")
    assert r.RtlUnicodeStringToAnsiString(ansi, source, True) == STATUS_SUCCESS
    assert (ansi.Length, ansi.MaximumLength, f.string(ansi.Buffer)) == (5, 6, b"Run\xe9?")
    assert "StrG" in _pool_tags(kernel)
    r.RtlFreeAnsiString(ansi)
    assert ansi.Buffer == f.NULL and "StrG" not in _pool_tags(kernel)
    small = crt.narrow(b"", 4)
    ansi = f.new("ANSI_STRING *", {"Length": 0, "MaximumLength": 4, "Buffer": small})
    assert r.RtlUnicodeStringToAnsiString(ansi, source, False) == STATUS_BUFFER_OVERFLOW
    assert (ansi.Length, f.string(small)) == (3, b"Run")
    wide = f.new("UNICODE_STRING *")
    assert r.RtlAnsiStringToUnicodeString(wide, crt.ansi_string(b"Key\xe9"), True) == STATUS_SUCCESS
    assert (wide.Length, wide.MaximumLength, crt.read_wide(wide.Buffer)) == (8, 10, "Key\u00e9")
    r.RtlFreeUnicodeString(wide)
    room = crt.wide("", 4)
    wide = f.new("UNICODE_STRING *", {"Length": 0, "MaximumLength": 8, "Buffer": room})
    assert r.RtlAnsiStringToUnicodeString(wide, crt.ansi_string(b"Key\xe9"), False) == STATUS_BUFFER_OVERFLOW
    assert r.RtlAnsiStringToUnicodeString(wide, crt.ansi_string(b"Key"), False) == STATUS_SUCCESS
    assert crt.read_wide(room) == "Key"


def test_create_and_duplicate_unicode_strings(kernel, crt):
    """RtlCreateUnicodeString copies with its NUL (MaximumLength counts it); RtlDuplicateUnicodeString
    adds a NUL only with RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE, allocates for an empty source
    only with ALLOCATE_NULL_STRING too, and refuses ALLOCATE_NULL_STRING alone or an unknown flag
    (STATUS_INVALID_PARAMETER) (Microsoft's RtlDuplicateUnicodeString documentation)."""
    lib, f = crt.lib, crt.ffi
    made = f.new("UNICODE_STRING *")
    assert lib.CallCreateUnicodeString(made, crt.wide("Services"))
    assert (made.Length, made.MaximumLength, crt.read_wide(made.Buffer)) == (16, 18, "Services")
    lib.CallFreeUnicodeString(made)
    source = crt.unicode_string("Run")
    copy = f.new("UNICODE_STRING *")
    assert lib.CallDuplicateUnicodeString(1, source, copy) == STATUS_SUCCESS
    assert (copy.Length, copy.MaximumLength, crt.read_wide(copy.Buffer)) == (6, 8, "Run")
    assert copy.Buffer != source.Buffer and "StrG" in _pool_tags(kernel)
    lib.CallFreeUnicodeString(copy)
    assert lib.CallDuplicateUnicodeString(0, source, copy) == STATUS_SUCCESS
    assert (copy.Length, copy.MaximumLength) == (6, 6)
    lib.CallFreeUnicodeString(copy)
    empty = crt.unicode_string("")
    assert lib.CallDuplicateUnicodeString(1, empty, copy) == STATUS_SUCCESS
    assert (copy.Length, copy.MaximumLength, copy.Buffer) == (0, 0, f.NULL)
    assert lib.CallDuplicateUnicodeString(3, empty, copy) == STATUS_SUCCESS
    assert (copy.Length, copy.MaximumLength, copy.Buffer[0]) == (0, 2, 0)
    lib.CallFreeUnicodeString(copy)
    assert lib.CallDuplicateUnicodeString(2, source, copy) == STATUS_INVALID_PARAMETER
    assert lib.CallDuplicateUnicodeString(4, source, copy) == STATUS_INVALID_PARAMETER
    assert _pool_tags(kernel).count("StrG") == 0


@pytest.mark.parametrize(("text", "base", "value"), [
    ("123", 10, 123), ("  -12", 0, 2**32 - 12), ("+7", 0, 7), ("0x1F", 0, 31), ("0b101", 0, 5),
    ("0o17", 0, 15), ("1f", 16, 31), ("12abc", 10, 12), ("", 10, 0), ("777", 8, 511), ("9", 8, 0),
])
def test_unicode_string_to_integer(kernel, crt, text, base, value):
    """RtlUnicodeStringToInteger: leading blanks, a sign, a 0x/0o/0b prefix when Base is 0, digits
    up to the first that is not one (Microsoft's RtlUnicodeStringToInteger documentation)."""
    out = kernel.ffi.new("ULONG *", 0xDEAD)
    assert kernel.routines.RtlUnicodeStringToInteger(crt.unicode_string(text), base, out) == STATUS_SUCCESS
    assert out[0] == value


def test_unicode_string_to_integer_rejects_a_base(kernel, crt):
    """A base other than 0, 2, 8, 10 and 16 is STATUS_INVALID_PARAMETER; no Value pointer is
    STATUS_ACCESS_VIOLATION (Microsoft's RtlUnicodeStringToInteger documentation)."""
    r, out = kernel.routines, kernel.ffi.new("ULONG *")
    assert r.RtlUnicodeStringToInteger(crt.unicode_string("1"), 3, out) == STATUS_INVALID_PARAMETER
    assert r.RtlUnicodeStringToInteger(crt.unicode_string("1"), 10, kernel.ffi.NULL) == STATUS_ACCESS_VIOLATION


def test_integer_to_unicode_string(kernel, crt):
    """RtlIntegerToUnicodeString and RtlInt64ToUnicodeString: upper-case digits in base 2, 8, 10
    or 16 (0 is 10), NUL-terminated; STATUS_BUFFER_OVERFLOW when the digits and the NUL do not fit,
    STATUS_INVALID_PARAMETER for another base (Microsoft's RtlIntegerToUnicodeString documentation)."""
    r = kernel.routines
    target = crt.unicode_string("", 40)
    assert r.RtlIntegerToUnicodeString(255, 16, target) == STATUS_SUCCESS
    assert (target.Length, crt.read_wide(target.Buffer)) == (4, "FF")
    assert r.RtlIntegerToUnicodeString(5, 2, target) == STATUS_SUCCESS and crt.read_wide(target.Buffer) == "101"
    assert r.RtlIntegerToUnicodeString(4294967295, 0, target) == STATUS_SUCCESS
    assert crt.read_wide(target.Buffer) == "4294967295"
    assert r.RtlInt64ToUnicodeString(2**40, 10, target) == STATUS_SUCCESS
    assert crt.read_wide(target.Buffer) == "1099511627776"
    assert r.RtlIntegerToUnicodeString(7, 7, target) == STATUS_INVALID_PARAMETER
    tight = crt.unicode_string("", 4)
    assert r.RtlIntegerToUnicodeString(12, 10, tight) == STATUS_BUFFER_OVERFLOW


def test_downcase_unicode_char(kernel):
    """RtlDowncaseUnicodeChar: the inverse of the kernel's upcase table, beyond ASCII too
    (Microsoft's RtlDowncaseUnicodeChar documentation)."""
    down = kernel.routines.RtlDowncaseUnicodeChar
    assert [down(ord(c)) for c in "AZaz1_"] == [ord(c) for c in "azaz1_"]
    assert (down(0xC9), down(0x3A9), down(0x416)) == (0xE9, 0x3C9, 0x436)


# --- the version: the active profile's Windows ----------------------------------------------

@pytest.mark.parametrize(("profile", "major", "minor", "build", "product"), [
    pytest.param("2003", 5, 2, 3790, 3, marks=pytest.mark.cmhook(profile="2003"), id="2003"),
    pytest.param("xp", 5, 1, 2600, 1, marks=pytest.mark.cmhook(profile="xp"), id="xp"),
])
def test_rtl_get_version_reports_the_profiles_windows(crt, profile, major, minor, build, product):
    """RtlGetVersion: Server 2003 is 5.2 build 3790 (VER_NT_SERVER), XP 5.1 build 2600
    (VER_NT_WORKSTATION), platform VER_PLATFORM_WIN32_NT, STATUS_SUCCESS; the Ex members only
    when dwOSVersionInfoSize says RTL_OSVERSIONINFOEXW (Microsoft's RtlGetVersion and
    OSVERSIONINFOEXW documentation)."""
    info = crt.ffi.new("RTL_OSVERSIONINFOEXW *", {"wProductType": 0xEE})
    assert crt.lib.GetVersion(info, 0) == STATUS_SUCCESS
    assert (info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber, info.dwPlatformId) == (
        major, minor, build, 2)
    assert info.wProductType == 0xEE  # the basic struct ends before it
    assert crt.lib.GetVersion(info, 1) == STATUS_SUCCESS and info.wProductType == product
    assert crt.lib.AtLeast(5, 1) == STATUS_SUCCESS
    assert crt.lib.AtLeast(5, 2) == (STATUS_SUCCESS if profile == "2003" else STATUS_REVISION_MISMATCH)
    assert crt.lib.AtLeast(6, 0) == STATUS_REVISION_MISMATCH
    assert crt.lib.AtLeast(4, 9) == STATUS_SUCCESS
    assert crt.lib.BuildIs(build) == STATUS_SUCCESS != crt.lib.BuildIs(build + 1)


def test_rtl_verify_version_info_rejects_empty_masks(kernel):
    """An empty TypeMask or ConditionMask is STATUS_INVALID_PARAMETER (Microsoft's
    RtlVerifyVersionInfo documentation)."""
    info = kernel.ffi.new("RTL_OSVERSIONINFOEXW *", {"dwOSVersionInfoSize": kernel.ffi.sizeof("RTL_OSVERSIONINFOEXW")})
    mask = kernel.routines.VerSetConditionMask(0, 2, 3)
    assert mask == 3 << 3  # VER_MAJORVERSION's three bits, VER_GREATER_EQUAL
    assert kernel.routines.RtlVerifyVersionInfo(info, 0, mask) == STATUS_INVALID_PARAMETER
    assert kernel.routines.RtlVerifyVersionInfo(info, 2, 0) == STATUS_INVALID_PARAMETER
    assert kernel.routines.RtlVerifyVersionInfo(info, 2, mask) == STATUS_SUCCESS
