/*
 * io.c - the I/O manager's routines that need no Python: MDLs, the default dispatch routine,
 * and wdmsec.lib's IoCreateDeviceSecure.
 *
 * The rest of the I/O manager (devices, symbolic links, IRPs, completion) is harness/devices.py,
 * reached through harness/routines/io.py's IoCreateDevice, IoDeleteDevice, IoCreateSymbolicLink,
 * IoDeleteSymbolicLink, IofCompleteRequest and IoIsWdmVersionAvailable.
 */
#include <stdlib.h>
#include <wdmsec.h>
#include "shim_internal.h"

/* What the I/O manager puts in every MajorFunction entry before DriverEntry (Windows'
 * IopInvalidDeviceRequest): the request fails with STATUS_INVALID_DEVICE_REQUEST. */
static NTSTATUS NTAPI CmhookInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    (void)DeviceObject;
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IofCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

PDRIVER_DISPATCH CmhookDefaultDispatch(VOID)
{
    return CmhookInvalidDeviceRequest;
}

/* The longest buffer one MDL describes on x64 (Microsoft's IoAllocateMdl documentation: a little
 * under 4 GB, PAGE_SIZE * (65535 - sizeof(MDL)) / sizeof(ULONG_PTR)). */
#define CMHOOK_MDL_MAXIMUM_BYTES ((ULONGLONG)PAGE_SIZE * (65535 - sizeof(MDL)) / sizeof(ULONG_PTR))

/* An MDL for Length bytes at VirtualAddress, with room for its page frame numbers (left zero: the
 * harness has no physical pages). With an Irp, it becomes Irp->MdlAddress, or for a
 * SecondaryBuffer the last of the chain there. NULL for a Length of 0 or over the maximum. */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    SIZE_T Pages;
    PMDL Mdl;
    (void)ChargeQuota;
    if (Length == 0 || Length > CMHOOK_MDL_MAXIMUM_BYTES)
        return NULL;
    Pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length);
    Mdl = calloc(1, sizeof(MDL) + Pages * sizeof(PFN_NUMBER));
    if (Mdl == NULL)
        return NULL;
    MmInitializeMdl(Mdl, VirtualAddress, Length);
    if (Irp != NULL) {
        if (!SecondaryBuffer) {
            Irp->MdlAddress = Mdl;
        } else {
            PMDL Last = Irp->MdlAddress;
            if (Last == NULL) {
                Irp->MdlAddress = Mdl;
            } else {
                while (Last->Next != NULL)
                    Last = Last->Next;
                Last->Next = Mdl;
            }
        }
    }
    return Mdl;
}

VOID IoFreeMdl(PMDL Mdl)
{
    free(Mdl);
}

/* The buffer is the system address: MmGetSystemAddressForMdlSafe gives it from now on. */
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
    MemoryDescriptorList->MappedSystemVa = MmGetMdlVirtualAddress(MemoryDescriptorList);
    MemoryDescriptorList->MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
}

/* wdmsec.lib's IoCreateDeviceSecure: IoCreateDevice with a security descriptor given in SDDL. The
 * harness accepts the SDDL string and does not enforce it (any caller may open the device); it
 * refuses only what Windows' parser refuses before anything is made: no string, or one that is
 * not a DACL ("D:..."), STATUS_INVALID_PARAMETER. DeviceClassGuid is not used. */
NTSTATUS WdmlibIoCreateDeviceSecure(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PUNICODE_STRING DeviceName,
                                    DEVICE_TYPE DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                                    PCUNICODE_STRING DefaultSDDLString, LPCGUID DeviceClassGuid,
                                    PDEVICE_OBJECT *DeviceObject)
{
    (void)DeviceClassGuid;
    if (DefaultSDDLString == NULL || DefaultSDDLString->Buffer == NULL || DefaultSDDLString->Length < 2 * sizeof(WCHAR)
        || DefaultSDDLString->Buffer[0] != L'D' || DefaultSDDLString->Buffer[1] != L':')
        return STATUS_INVALID_PARAMETER;
    return IoCreateDevice(DriverObject, DeviceExtensionSize, DeviceName, DeviceType, DeviceCharacteristics, Exclusive,
                          DeviceObject);
}
