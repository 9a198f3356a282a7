/*
 * wdmsec.h - the WDK's wdmsec.h (the wdmsec.lib helpers): the SDDL strings drivers secure
 * their device objects with, and RtlInitUnicodeStringEx's down-level form.
 *
 * The SDDL_DEVOBJ_* strings are Microsoft's documented values, defined here (a static const
 * UNICODE_STRING per source, where wdmsec.lib has one copy). IoCreateDeviceSecure makes the
 * device as IoCreateDevice does; the harness accepts the SDDL string (a DACL, "D:...") but does
 * not enforce it: any caller may open the device. IoValidateDeviceIoControlAccess is not declared.
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

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID;
#endif
#ifndef _LPCGUID_DEFINED
#define _LPCGUID_DEFINED
typedef const GUID *LPCGUID;
#endif

/* IoCreateDevice with a default security descriptor in SDDL (see above). No SDDL string, or one that
 * is not a DACL: STATUS_INVALID_PARAMETER. */
NTSTATUS WdmlibIoCreateDeviceSecure(IN PDRIVER_OBJECT DriverObject, IN ULONG DeviceExtensionSize,
    IN PUNICODE_STRING DeviceName OPTIONAL, IN DEVICE_TYPE DeviceType, IN ULONG DeviceCharacteristics,
    IN BOOLEAN Exclusive, IN PCUNICODE_STRING DefaultSDDLString, IN LPCGUID DeviceClassGuid OPTIONAL,
    OUT PDEVICE_OBJECT *DeviceObject);
#undef IoCreateDeviceSecure
#define IoCreateDeviceSecure WdmlibIoCreateDeviceSecure

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
