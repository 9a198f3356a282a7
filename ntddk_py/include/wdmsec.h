/*
 * wdmsec.h - the WDK's wdmsec.h (the wdmsec.lib helpers): the SDDL strings drivers secure
 * their device objects with, and RtlInitUnicodeStringEx's down-level form.
 *
 * The SDDL_DEVOBJ_* strings are Microsoft's documented values, defined here (a static const
 * UNICODE_STRING per source, where wdmsec.lib has one copy). IoCreateDeviceSecure and
 * IoValidateDeviceIoControlAccess need device objects and IRPs, which the harness does not
 * have: they are not declared.
 */
#ifndef _WDMSEC_H_
#define _WDMSEC_H_

#include "ntddk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* u"...": 16-bit strings with or without -fshort-wchar. */
#define _CMHOOK_SDDL(Name, Text) \
    static const UNICODE_STRING Name __attribute__((unused)) = { sizeof(Text) - sizeof(WCHAR), sizeof(Text), (PWSTR)(Text) }

_CMHOOK_SDDL(SDDL_DEVOBJ_KERNEL_ONLY, u"D:P");
#define SDDL_DEVOBJ_INF_SUPPLIED SDDL_DEVOBJ_KERNEL_ONLY
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL, u"D:P(A;;GA;;;SY)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_ALL, u"D:P(A;;GA;;;SY)(A;;GA;;;BA)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_RX, u"D:P(A;;GA;;;SY)(A;;GRGX;;;BA)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R, u"D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GR;;;WD)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_R_RES_R,
             u"D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GR;;;WD)(A;;GR;;;RC)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RW_RES_R,
             u"D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGW;;;WD)(A;;GR;;;RC)");
_CMHOOK_SDDL(SDDL_DEVOBJ_SYS_ALL_ADM_RWX_WORLD_RWX_RES_RWX,
             u"D:P(A;;GA;;;SY)(A;;GRGWGX;;;BA)(A;;GRGWGX;;;WD)(A;;GRGWGX;;;RC)");
#undef _CMHOOK_SDDL

/* RtlInitUnicodeStringEx: RtlInitUnicodeString that refuses a string too long for a
 * UNICODE_STRING (32767 characters or more) with STATUS_NAME_TOO_LONG, leaving
 * DestinationString as it was. */
FORCEINLINE NTSTATUS WdmlibRtlInitUnicodeStringEx(OUT PUNICODE_STRING DestinationString, IN PCWSTR SourceString OPTIONAL)
{
    SIZE_T Length = 0;
    if (SourceString != NULL) {
        while (SourceString[Length] != 0)
            Length++;
        if (Length * sizeof(WCHAR) > 0xfffc)
            return STATUS_NAME_TOO_LONG;
    }
    DestinationString->Length = (USHORT)(Length * sizeof(WCHAR));
    DestinationString->MaximumLength = SourceString != NULL ? (USHORT)((Length + 1) * sizeof(WCHAR)) : 0;
    DestinationString->Buffer = (PWSTR)SourceString;
    return STATUS_SUCCESS;
}
#undef RtlInitUnicodeStringEx
#define RtlInitUnicodeStringEx WdmlibRtlInitUnicodeStringEx

#ifdef __cplusplus
}
#endif

#endif /* _WDMSEC_H_ */
