"""Rtl routines that need the harness: RtlAssert (its text and its verifier finding), RtlGetVersion and
RtlVerifyVersionInfo (the active profile's Windows version); the rest are C."""

from __future__ import annotations

from ntddk_py import (
    STATUS_ACCESS_VIOLATION,
    STATUS_INVALID_PARAMETER,
    STATUS_REVISION_MISMATCH,
    STATUS_SUCCESS,
    VER_AND,
    VER_BUILDNUMBER,
    VER_EQUAL,
    VER_GREATER,
    VER_GREATER_EQUAL,
    VER_LESS,
    VER_LESS_EQUAL,
    VER_MAJORVERSION,
    VER_MINORVERSION,
    VER_OR,
    VER_PLATFORM_WIN32_NT,
    VER_PLATFORMID,
    VER_PRODUCT_TYPE,
    VER_SERVICEPACKMAJOR,
    VER_SERVICEPACKMINOR,
    VER_SUITENAME,
    ffi,
)

from . import bugcheck, routine


@routine("RtlAssert")
def rtl_assert(kernel, VoidFailedAssertion, VoidFileName, LineNumber, MutableMessage) -> None:
    """VOID RtlAssert(PVOID FailedAssertion, PVOID FileName, ULONG LineNumber, PSTR Message): what a
    failed ASSERT calls in a checked build. Windows prints the text below and breaks into the kernel
    debugger; here the text is the driver's debug output, the assertion is a verifier finding, and
    the driver goes on, as it does when the debugger is told to ignore it."""
    def text(pointer) -> str:
        return ffi.string(ffi.cast("char *", pointer)).decode("utf-8", "replace") if pointer else ""

    expression, file, message = text(VoidFailedAssertion), text(VoidFileName), text(MutableMessage)
    shown = f"\n*** Assertion failed: {message}{expression}\n***   Source File: {file}, line {LineNumber}\n\n"
    driver = kernel.calling_driver()
    kernel.dbg_output(driver.base if driver is not None else 0, 0, 0, ffi.new("char[]", shown.encode()))
    kernel.finding("assertion-failed", f"{message}{expression} is false at {file}:{LineNumber}",
                   driver.name if driver is not None else None)


# --- the version: the active profile's Windows --------------------------------------------
def _condition(mask: int, type_bit: int) -> int:
    """The 3-bit condition VerSetConditionMask stored for one type bit."""
    return (mask >> (3 * (type_bit.bit_length() - 1))) & 7


@routine("RtlGetVersion")
def rtl_get_version(kernel, lpVersionInformation) -> int:
    """NTSTATUS RtlGetVersion(PRTL_OSVERSIONINFOW): the active profile's version, platform
    VER_PLATFORM_WIN32_NT; the Ex members too when dwOSVersionInfoSize says the struct is an
    RTL_OSVERSIONINFOEXW. STATUS_SUCCESS (Microsoft's RtlGetVersion documentation)."""
    if lpVersionInformation == ffi.NULL:
        bugcheck(kernel, "RtlGetVersion(NULL): Windows writes through the NULL pointer and faults")
        return STATUS_ACCESS_VIOLATION
    version = kernel.native.profile.version
    info = lpVersionInformation
    info.dwMajorVersion, info.dwMinorVersion = version.major, version.minor
    info.dwBuildNumber, info.dwPlatformId = version.build, VER_PLATFORM_WIN32_NT
    csd = [ord(c) for c in version.csd_version[:127]]
    info.szCSDVersion[0:len(csd) + 1] = [*csd, 0]
    if info.dwOSVersionInfoSize == ffi.sizeof("RTL_OSVERSIONINFOEXW"):
        ex = ffi.cast("PRTL_OSVERSIONINFOEXW", info)
        ex.wServicePackMajor, ex.wServicePackMinor = version.service_pack_major, version.service_pack_minor
        ex.wSuiteMask, ex.wProductType, ex.wReserved = version.suite_mask, version.product_type, 0
    return STATUS_SUCCESS


def _compare(have: int, wanted: int, condition: int) -> int:
    """One value against the caller's, under VER_EQUAL ... VER_LESS_EQUAL."""
    holds = {VER_EQUAL: have == wanted, VER_GREATER: have > wanted, VER_GREATER_EQUAL: have >= wanted,
             VER_LESS: have < wanted, VER_LESS_EQUAL: have <= wanted}.get(condition)
    if holds is None:
        return STATUS_INVALID_PARAMETER
    return STATUS_SUCCESS if holds else STATUS_REVISION_MISMATCH


@routine("RtlVerifyVersionInfo")
def rtl_verify_version_info(kernel, VersionInfo, TypeMask, ConditionMask) -> int:
    """NTSTATUS RtlVerifyVersionInfo(PRTL_OSVERSIONINFOEXW, ULONG TypeMask, ULONGLONG ConditionMask):
    STATUS_SUCCESS when the active profile's version meets every condition TypeMask names,
    STATUS_REVISION_MISMATCH when one fails, STATUS_INVALID_PARAMETER for an empty TypeMask or
    ConditionMask or an unknown condition (Microsoft's RtlVerifyVersionInfo documentation). The
    major, minor and service pack numbers compare as one version, under the condition of the
    highest of them named (Wine's reading, as Windows behaves)."""
    if not TypeMask or not ConditionMask:
        return STATUS_INVALID_PARAMETER
    if VersionInfo == ffi.NULL:
        bugcheck(kernel, "RtlVerifyVersionInfo(NULL, ...): Windows reads through the NULL pointer and faults")
        return STATUS_ACCESS_VIOLATION
    version, wanted = kernel.native.profile.version, VersionInfo
    singles = ((VER_PRODUCT_TYPE, version.product_type, wanted.wProductType),
               (VER_PLATFORMID, VER_PLATFORM_WIN32_NT, wanted.dwPlatformId),
               (VER_BUILDNUMBER, version.build, wanted.dwBuildNumber))
    for bit, have, asked in singles:
        if TypeMask & bit and (status := _compare(have, asked, _condition(ConditionMask, bit))):
            return status
    if TypeMask & VER_SUITENAME:
        condition, asked = _condition(ConditionMask, VER_SUITENAME), wanted.wSuiteMask
        if condition == VER_AND and asked & version.suite_mask != asked:
            return STATUS_REVISION_MISMATCH
        if condition == VER_OR and asked and not asked & version.suite_mask:
            return STATUS_REVISION_MISMATCH
        if condition not in (VER_AND, VER_OR):
            return STATUS_INVALID_PARAMETER
    parts = [(bit, have, asked) for bit, have, asked in (
        (VER_MAJORVERSION, version.major, wanted.dwMajorVersion),
        (VER_MINORVERSION, version.minor, wanted.dwMinorVersion),
        (VER_SERVICEPACKMAJOR, version.service_pack_major, wanted.wServicePackMajor),
        (VER_SERVICEPACKMINOR, version.service_pack_minor, wanted.wServicePackMinor)) if TypeMask & bit]
    if parts:
        condition = _condition(ConditionMask, parts[0][0])
        status = STATUS_SUCCESS
        for _, have, asked in parts:  # the first that differs decides, as in a version comparison
            status = _compare(have, asked, condition)
            if have != asked or condition not in range(VER_EQUAL, VER_LESS_EQUAL + 1):
                break
        return status
    return STATUS_SUCCESS
