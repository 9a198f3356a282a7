/*
 * ioctl_monitor.c - a registry activity monitor in two halves, as monitors are built: this kernel
 * half records what it sees, a user-mode half reads the records through a device.
 *
 * - A registry callback (CmRegisterCallback) records every set-value, delete-value and delete-key
 *   (at the pre-notification: what was attempted) as one line of text,
 *       SetValue pid=496 \REGISTRY\MACHINE\SOFTWARE\Demo\Name
 *   into a ring of RING_SIZE records guarded by a spin lock (the oldest is dropped when it is full).
 * - The device \Device\CmhookMonitor, with the symbolic link \DosDevices\CmhookMonitor, is the
 *   channel: a user-mode program opens \\.\CmhookMonitor and sends
 *   - IOCTL_MONITOR_GET_RECORDS (METHOD_BUFFERED): the records, oldest first, as UTF-16 lines
 *     ending in "\n", as many whole records as the output buffer holds (they leave the ring);
 *     IoStatus.Information is the bytes written, 0 when there is none; a buffer too small for the
 *     oldest record is STATUS_BUFFER_TOO_SMALL.
 *   - IOCTL_MONITOR_WAIT_RECORD (METHOD_BUFFERED, the "inverted call"): the same, but when the ring
 *     is empty the request is marked pending and completed by the callback at the next record;
 *     one such request waits at a time (another gets STATUS_DEVICE_BUSY). Closing the handle
 *     (IRP_MJ_CLEANUP) or unloading completes it with STATUS_CANCELLED.
 * - DriverUnload unregisters the callback, completes a waiting request, deletes the link and the
 *   device.
 *
 * Build and run:  cmhook build ioctl_monitor.c  &&  cmhook run ioctl_monitor.so --script
 * examples/scenarios/ioctl_monitor.script (the script's opendevice / ioctl commands are the
 * user-mode half); tests/harness/test_example_ioctl_monitor.py drives it from pytest.
 */
#include <ntddk.h>

#define IOCTL_MONITOR_GET_RECORDS CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_READ_ACCESS)
#define IOCTL_MONITOR_WAIT_RECORD CTL_CODE(FILE_DEVICE_UNKNOWN, 0x801, METHOD_BUFFERED, FILE_READ_ACCESS)
#define RING_SIZE 64
#define RECORD_CHARS 256
#define NAME_BYTES 1024
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#endif

typedef struct _RECORD {
    USHORT Length; /* in bytes, the final "\n" included */
    WCHAR Text[RECORD_CHARS];
} RECORD, *PRECORD;

static LARGE_INTEGER Cookie;
static PDEVICE_OBJECT MonitorDevice;
static UNICODE_STRING DeviceName = RTL_CONSTANT_STRING(L"\\Device\\CmhookMonitor");
static UNICODE_STRING LinkName = RTL_CONSTANT_STRING(L"\\DosDevices\\CmhookMonitor");

static KSPIN_LOCK RingLock; /* guards everything below */
static RECORD Ring[RING_SIZE];
static ULONG First, Count, Dropped;
static PIRP Waiter; /* a pending IOCTL_MONITOR_WAIT_RECORD */

/* --- building a record ------------------------------------------------------------------- */
static VOID Append(PRECORD Record, const WCHAR *Text, SIZE_T Chars)
{
    SIZE_T Room = RECORD_CHARS - 1 - Record->Length / sizeof(WCHAR); /* one kept for the "\n" */
    if (Chars > Room)
        Chars = Room;
    RtlCopyMemory(&Record->Text[Record->Length / sizeof(WCHAR)], Text, Chars * sizeof(WCHAR));
    Record->Length += (USHORT)(Chars * sizeof(WCHAR));
}

static VOID AppendText(PRECORD Record, const WCHAR *Text)
{
    Append(Record, Text, wcslen(Text));
}

static VOID AppendNumber(PRECORD Record, ULONG_PTR Number)
{
    WCHAR Digits[24];
    int At = 24;
    do {
        Digits[--At] = (WCHAR)(L'0' + Number % 10);
        Number /= 10;
    } while (Number != 0);
    Append(Record, &Digits[At], 24 - At);
}

/* The key's full name (\REGISTRY\...), asked of the object manager into a buffer on the stack. */
static VOID AppendKeyName(PRECORD Record, PVOID Object)
{
    ULONG_PTR Buffer[NAME_BYTES / sizeof(ULONG_PTR)];
    POBJECT_NAME_INFORMATION Name = (POBJECT_NAME_INFORMATION)Buffer;
    ULONG Needed = 0;
    if (NT_SUCCESS(ObQueryNameString(Object, Name, sizeof(Buffer), &Needed)))
        Append(Record, Name->Name.Buffer, Name->Name.Length / sizeof(WCHAR));
    else
        AppendText(Record, L"<key name unavailable>");
}

/* --- the ring ------------------------------------------------------------------------------ */
/* Copies whole records, oldest first, into Output; they leave the ring. Called with RingLock held.
 * Returns the bytes written, or -1 when the oldest record does not fit. */
static LONG Drain(PUCHAR Output, ULONG Length)
{
    ULONG Written = 0;
    while (Count > 0 && Ring[First].Length <= Length - Written) {
        RtlCopyMemory(Output + Written, Ring[First].Text, Ring[First].Length);
        Written += Ring[First].Length;
        First = (First + 1) % RING_SIZE;
        Count--;
    }
    return (Written == 0 && Count > 0) ? -1 : (LONG)Written;
}

static VOID CompleteDrained(PIRP Irp, LONG Written)
{
    Irp->IoStatus.Status = Written < 0 ? STATUS_BUFFER_TOO_SMALL : STATUS_SUCCESS;
    Irp->IoStatus.Information = Written < 0 ? 0 : (ULONG_PTR)Written;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

static VOID Record(const RECORD *Made)
{
    KIRQL OldIrql;
    PIRP Waiting;
    LONG Written = 0;
    KeAcquireSpinLock(&RingLock, &OldIrql);
    if (Count == RING_SIZE) {
        First = (First + 1) % RING_SIZE;
        Count--;
        Dropped++;
    }
    Ring[(First + Count) % RING_SIZE] = *Made;
    Count++;
    Waiting = Waiter;
    Waiter = NULL;
    if (Waiting != NULL)
        Written = Drain(Waiting->AssociatedIrp.SystemBuffer,
                        IoGetCurrentIrpStackLocation(Waiting)->Parameters.DeviceIoControl.OutputBufferLength);
    KeReleaseSpinLock(&RingLock, OldIrql);
    if (Waiting != NULL) /* completed outside the lock */
        CompleteDrained(Waiting, Written);
}

static VOID CancelWaiter(PFILE_OBJECT OnlyFor)
{
    KIRQL OldIrql;
    PIRP Waiting;
    KeAcquireSpinLock(&RingLock, &OldIrql);
    Waiting = Waiter;
    if (Waiting != NULL && (OnlyFor == NULL || IoGetCurrentIrpStackLocation(Waiting)->FileObject == OnlyFor))
        Waiter = NULL;
    else
        Waiting = NULL;
    KeReleaseSpinLock(&RingLock, OldIrql);
    if (Waiting != NULL) {
        Waiting->IoStatus.Status = STATUS_CANCELLED;
        Waiting->IoStatus.Information = 0;
        IoCompleteRequest(Waiting, IO_NO_INCREMENT);
    }
}

/* --- the registry callback ----------------------------------------------------------------- */
static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    RECORD Made;
    UNREFERENCED_PARAMETER(CallbackContext);
    Made.Length = 0;
    switch ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1) {
    case RegNtPreSetValueKey: {
        PREG_SET_VALUE_KEY_INFORMATION Info = Argument2;
        AppendText(&Made, L"SetValue");
        AppendText(&Made, L" pid=");
        AppendNumber(&Made, (ULONG_PTR)PsGetCurrentProcessId());
        AppendText(&Made, L" ");
        AppendKeyName(&Made, Info->Object);
        AppendText(&Made, L"\\");
        Append(&Made, Info->ValueName->Buffer, Info->ValueName->Length / sizeof(WCHAR));
        break;
    }
    case RegNtPreDeleteValueKey: {
        PREG_DELETE_VALUE_KEY_INFORMATION Info = Argument2;
        AppendText(&Made, L"DeleteValue pid=");
        AppendNumber(&Made, (ULONG_PTR)PsGetCurrentProcessId());
        AppendText(&Made, L" ");
        AppendKeyName(&Made, Info->Object);
        AppendText(&Made, L"\\");
        Append(&Made, Info->ValueName->Buffer, Info->ValueName->Length / sizeof(WCHAR));
        break;
    }
    case RegNtPreDeleteKey: {
        PREG_DELETE_KEY_INFORMATION Info = Argument2;
        AppendText(&Made, L"DeleteKey pid=");
        AppendNumber(&Made, (ULONG_PTR)PsGetCurrentProcessId());
        AppendText(&Made, L" ");
        AppendKeyName(&Made, Info->Object);
        break;
    }
    default:
        return STATUS_SUCCESS;
    }
    Made.Text[Made.Length / sizeof(WCHAR)] = L'\n';
    Made.Length += sizeof(WCHAR);
    Record(&Made);
    return STATUS_SUCCESS;
}

/* --- the device ---------------------------------------------------------------------------- */
static NTSTATUS CompleteWith(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS DispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return CompleteWith(Irp, STATUS_SUCCESS);
}

static NTSTATUS DispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    CancelWaiter(IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return CompleteWith(Irp, STATUS_SUCCESS);
}

static NTSTATUS DispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION Stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG Length = Stack->Parameters.DeviceIoControl.OutputBufferLength;
    KIRQL OldIrql;
    LONG Written;
    UNREFERENCED_PARAMETER(DeviceObject);
    switch (Stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_MONITOR_GET_RECORDS:
    case IOCTL_MONITOR_WAIT_RECORD:
        KeAcquireSpinLock(&RingLock, &OldIrql);
        if (Count == 0 && Stack->Parameters.DeviceIoControl.IoControlCode == IOCTL_MONITOR_WAIT_RECORD) {
            if (Waiter != NULL) {
                KeReleaseSpinLock(&RingLock, OldIrql);
                return CompleteWith(Irp, STATUS_DEVICE_BUSY);
            }
            IoMarkIrpPending(Irp);
            Waiter = Irp;
            KeReleaseSpinLock(&RingLock, OldIrql);
            return STATUS_PENDING;
        }
        Written = Drain(Irp->AssociatedIrp.SystemBuffer, Length);
        KeReleaseSpinLock(&RingLock, OldIrql);
        CompleteDrained(Irp, Written);
        return Written < 0 ? STATUS_BUFFER_TOO_SMALL : STATUS_SUCCESS;
    default:
        return CompleteWith(Irp, STATUS_INVALID_DEVICE_REQUEST);
    }
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    CancelWaiter(NULL);
    IoDeleteSymbolicLink(&LinkName);
    IoDeleteDevice(MonitorDevice);
    DbgPrint("ioctl_monitor: unloaded (%lu records dropped)\n", Dropped);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&RingLock);
    Status = IoCreateDevice(DriverObject, 0, &DeviceName, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE,
                            &MonitorDevice);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = IoCreateSymbolicLink(&LinkName, &DeviceName);
    if (!NT_SUCCESS(Status)) {
        IoDeleteDevice(MonitorDevice);
        return Status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = DispatchCleanup;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = DispatchDeviceControl;
    DriverObject->DriverUnload = DriverUnload;
    MonitorDevice->Flags |= DO_BUFFERED_IO;
    Status = CmRegisterCallback(RegistryCallback, NULL, &Cookie);
    if (!NT_SUCCESS(Status)) {
        IoDeleteSymbolicLink(&LinkName);
        IoDeleteDevice(MonitorDevice);
        return Status;
    }
    DbgPrint("ioctl_monitor: recording into \\\\.\\CmhookMonitor\n");
    return STATUS_SUCCESS;
}
