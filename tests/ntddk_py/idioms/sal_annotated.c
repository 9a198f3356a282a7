/* A driver annotated for the static analyzer, as WDK samples are: role typedef declarations,
 * _Use_decl_annotations_ definitions, SAL 2, IRQL and lock annotations, the older __in/__out
 * family and __drv_* annotations. Every annotation compiles to nothing. */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD DriverUnload;
_Dispatch_type_(IRP_MJ_CREATE) _Dispatch_type_(IRP_MJ_CLOSE) DRIVER_DISPATCH DispatchCreateClose;

typedef struct _NAME_CACHE {
    KSPIN_LOCK Lock;
    _Guarded_by_(Lock) ULONG Count;
    _Field_size_(Capacity) PWCHAR Names;
    _Field_size_bytes_(ByteCount) PUCHAR Bytes;
    ULONG Capacity;
    ULONG ByteCount;
    _Interlocked_ volatile LONG Hits;
} NAME_CACHE, *PNAME_CACHE;

static NAME_CACHE Cache;

_Must_inspect_result_
_Success_(return >= 0)
_IRQL_requires_max_(APC_LEVEL)
static NTSTATUS CopyName(_In_reads_(Count) const WCHAR *Source, _In_ ULONG Count,
                         _Out_writes_to_(Room, *Written) PWCHAR Target, _In_ ULONG Room,
                         _Out_ PULONG Written)
{
    ULONG i;
    PAGED_CODE();
    if (Count > Room)
        return STATUS_BUFFER_TOO_SMALL;
    for (i = 0; i < Count; i++)
        Target[i] = Source[i];
    *Written = Count;
    return STATUS_SUCCESS;
}

_IRQL_requires_max_(DISPATCH_LEVEL)
_IRQL_raises_(DISPATCH_LEVEL)
_IRQL_saves_global_(SpinLock, *OldIrql)
_Acquires_lock_(Cache->Lock)
static VOID LockCache(_Inout_ PNAME_CACHE Cache, _Out_ _IRQL_saves_ PKIRQL OldIrql)
{
    KeAcquireSpinLock(&Cache->Lock, OldIrql);
}

_Requires_lock_held_(Cache->Lock)
_Releases_lock_(Cache->Lock)
_IRQL_requires_(DISPATCH_LEVEL)
static VOID UnlockCache(_Inout_ PNAME_CACHE Cache, _In_ _IRQL_restores_ KIRQL OldIrql)
{
    KeReleaseSpinLock(&Cache->Lock, OldIrql);
}

_Ret_maybenull_
_When_(Bytes == 0, _Post_null_)
__drv_allocatesMem(Mem)
static PVOID Allocate(_In_ SIZE_T Bytes)
{
    return Bytes ? ExAllocatePoolWithTag(PagedPool, Bytes, 'laSC') : NULL;
}

static VOID Release(_In_opt_ __drv_freesMem(Mem) PVOID Block)
{
    if (Block != NULL)
        ExFreePoolWithTag(Block, 'laSC');
}

static NTSTATUS FindFirst(_In_reads_bytes_(Length) const UCHAR *Data, _In_ ULONG Length, _In_ UCHAR Wanted,
                          _Outptr_result_maybenull_ const UCHAR **Found)
{
    ULONG i;
    *Found = NULL;
    for (i = 0; i < Length; i++) {
        if (Data[i] == Wanted) {
            *Found = &Data[i];
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NOT_FOUND;
}

static VOID Fill(_Out_writes_bytes_(Length) PVOID Buffer, _In_ ULONG Length, _Inout_opt_ PULONG Calls,
                 _Out_opt_ PULONG Filled)
{
    RtlFillMemory(Buffer, Length, 0x5A);
    if (Calls != NULL)
        (*Calls)++;
    if (Filled != NULL)
        *Filled = Length;
}

static VOID Report(_In_ _Printf_format_string_ PCSTR Format, _In_ ULONG Value)
{
    DbgPrint(Format, Value);
}

static ULONG CountStrings(_In_ _NullNull_terminated_ PCWSTR Multi, _Outptr_ PCWSTR *Last)
{
    ULONG Count = 0;
    *Last = Multi;
    while (*Multi != 0) {
        *Last = Multi;
        Count++;
        while (*Multi != 0)
            Multi++;
        Multi++;
    }
    return Count;
}

static ULONG LegacyLength(__in __nullterminated PCWSTR Text, __out_opt PULONG Copy, __inout_opt PULONG Total)
{
    ULONG n = 0;
    while (Text[n] != 0)
        n++;
    if (Copy != NULL)
        *Copy = n;
    if (Total != NULL)
        *Total += n;
    return n;
}

__checkReturn
__drv_maxIRQL(DISPATCH_LEVEL)
static BOOLEAN LegacyZero(__out_bcount(Length) PUCHAR Buffer, __in ULONG Length, _Inout_updates_(Length) PUCHAR Mirror)
{
    RtlZeroMemory(Buffer, Length);
    RtlCopyMemory(Mirror, Buffer, Length);
    return TRUE;
}

_Kernel_requires_resource_held_(CacheLock)
static ULONG CountLocked(_In_ const NAME_CACHE *Cache)
{
    _Analysis_assume_(Cache->Count <= Cache->Capacity);
    return Cache->Count;
}

_Use_decl_annotations_
NTSTATUS DispatchCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    UNREFERENCED_PARAMETER(Irp);
    return STATUS_SUCCESS;
}

_Function_class_(DRIVER_UNLOAD)
_IRQL_requires_(PASSIVE_LEVEL)
_IRQL_requires_same_
_Use_decl_annotations_
VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

_Use_decl_annotations_
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    static const WCHAR Multi[] = {'a', 0, 'b', 'c', 0, 0};
    WCHAR Name[8];
    UCHAR Bytes[4], Mirror[4];
    const UCHAR *Found;
    PCWSTR Last;
    ULONG Written = 0, Calls = 0, Filled = 0, Copy = 0, Total = 0, Locked;
    KIRQL OldIrql;
    PVOID Block;
    NTSTATUS Status;

    UNREFERENCED_PARAMETER(RegistryPath);
    Status = CopyName(Multi, 2, Name, ARRAYSIZE(Name), &Written);
    if (!NT_SUCCESS(Status))
        return Status;
    KeInitializeSpinLock(&Cache.Lock);
    LockCache(&Cache, &OldIrql);
    Cache.Count = 1;
    Cache.Capacity = 2;
    Locked = CountLocked(&Cache);
    UnlockCache(&Cache, OldIrql);
    Block = Allocate(16);
    Release(Block);
    Fill(Bytes, sizeof(Bytes), &Calls, &Filled);
    Status = FindFirst(Bytes, sizeof(Bytes), 0x5A, &Found);
    if (!NT_SUCCESS(Status) || Found != &Bytes[0])
        return STATUS_UNSUCCESSFUL;
    if (!LegacyZero(Bytes, sizeof(Bytes), Mirror))
        return STATUS_UNSUCCESSFUL;
    LegacyLength(Multi + 2, &Copy, &Total);
    Report("sal_annotated: %lu strings\n", CountStrings(Multi, &Last));
    DbgPrint("sal_annotated: written %lu calls %lu filled %lu locked %lu copy %lu total %lu last %ws\n",
             Written, Calls, Filled, Locked, Copy, Total, Last);
    DriverObject->MajorFunction[IRP_MJ_CREATE] = DispatchCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = DispatchCreateClose;
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
