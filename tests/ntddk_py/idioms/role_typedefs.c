/* Routines declared with their role typedefs, then defined, registered or called: the
 * registry callback (EX_CALLBACK_FUNCTION), a system thread's start routine, a DPC, a work
 * item, a process-notify routine; each assigned to its pointer type, so a signature that does
 * not match the role does not compile. */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD DriverUnload;
DRIVER_ADD_DEVICE AddDevice;
DRIVER_REINITIALIZE Reinitialize;
EX_CALLBACK_FUNCTION RegistryCallback;
KSTART_ROUTINE WorkerThread;
KDEFERRED_ROUTINE DeferredRoutine;
IO_WORKITEM_ROUTINE WorkItemRoutine;
WORKER_THREAD_ROUTINE ExWorker;
CALLBACK_FUNCTION PowerStateCallback;
IO_COMPLETION_ROUTINE CompletionRoutine;
DRIVER_CANCEL CancelRoutine;
ALLOCATE_FUNCTION LookasideAllocate;
FREE_FUNCTION LookasideFree;
VOID ProcessNotify(HANDLE ParentId, HANDLE ProcessId, BOOLEAN Create);

static LARGE_INTEGER Cookie;
static volatile LONG Notifications;
static ULONG Started;

NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    REG_NOTIFY_CLASS Class = (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1;
    UNREFERENCED_PARAMETER(Argument2);
    if (Class == RegNtPreSetValueKey && InterlockedIncrement(&Notifications) == 1)
        DbgPrint("role_typedefs: first set-value, context %p\n", CallbackContext);
    return STATUS_SUCCESS;
}

VOID WorkerThread(PVOID StartContext)
{
    Started += *(PULONG)StartContext;
}

VOID DeferredRoutine(PKDPC Dpc, PVOID DeferredContext, PVOID SystemArgument1, PVOID SystemArgument2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(DeferredContext);
    UNREFERENCED_PARAMETER(SystemArgument1);
    UNREFERENCED_PARAMETER(SystemArgument2);
}

VOID WorkItemRoutine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Context);
}

VOID ExWorker(PVOID Parameter)
{
    Started += *(PULONG)Parameter;
}

VOID PowerStateCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(CallbackContext);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
}

NTSTATUS CompletionRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(Context);
    return STATUS_SUCCESS;
}

VOID CancelRoutine(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
}

NTSTATUS AddDevice(PDRIVER_OBJECT DriverObject, PDEVICE_OBJECT PhysicalDeviceObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(PhysicalDeviceObject);
    return STATUS_SUCCESS;
}

VOID Reinitialize(PDRIVER_OBJECT DriverObject, PVOID Context, ULONG Count)
{
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Count);
}

PVOID LookasideAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

VOID LookasideFree(PVOID Buffer)
{
    ExFreePoolWithTag(Buffer, 'eloR');
}

VOID ProcessNotify(HANDLE ParentId, HANDLE ProcessId, BOOLEAN Create)
{
    UNREFERENCED_PARAMETER(ParentId);
    UNREFERENCED_PARAMETER(ProcessId);
    UNREFERENCED_PARAMETER(Create);
}

/* Every routine as its role's pointer type. */
static const PKSTART_ROUTINE Start = WorkerThread;
static const PKDEFERRED_ROUTINE Deferred = DeferredRoutine;
static const PIO_WORKITEM_ROUTINE WorkItem = WorkItemRoutine;
static const PWORKER_THREAD_ROUTINE Worker = ExWorker;
static const PCALLBACK_FUNCTION Callback = PowerStateCallback;
static const PIO_COMPLETION_ROUTINE Completion = CompletionRoutine;
static const PDRIVER_CANCEL Cancel = CancelRoutine;
static const PDRIVER_ADD_DEVICE Add = AddDevice;
static const PDRIVER_REINITIALIZE Reinit = Reinitialize;
static const PALLOCATE_FUNCTION Allocate = LookasideAllocate;
static const PFREE_FUNCTION Free = LookasideFree;
static const PCREATE_PROCESS_NOTIFY_ROUTINE Notify = ProcessNotify;
static const PEX_CALLBACK_FUNCTION Registry = RegistryCallback;

VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    DbgPrint("role_typedefs: unloaded after %ld set-value notifications\n", Notifications);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    ULONG One = 1;
    PVOID Block;
    UNREFERENCED_PARAMETER(RegistryPath);
    Start(&One);
    Worker(&One);
    Deferred(NULL, NULL, NULL, NULL);
    WorkItem(NULL, NULL);
    Callback(NULL, NULL, NULL);
    Cancel(NULL, NULL);
    Reinit(DriverObject, NULL, 0);
    Notify(NULL, NULL, TRUE);
    Block = Allocate(PagedPool, 8, 'eloR');
    if (Block == NULL || !NT_SUCCESS(Add(DriverObject, NULL)) || !NT_SUCCESS(Completion(NULL, NULL, NULL)))
        return STATUS_UNSUCCESSFUL;
    Free(Block);
    DbgPrint("role_typedefs: started %lu\n", Started);
    DriverObject->DriverUnload = DriverUnload;
    return CmRegisterCallback(Registry, (PVOID)(ULONG_PTR)0x5eed, &Cookie);
}
