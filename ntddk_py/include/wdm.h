/*
 * wdm.h - cmhook's wdm.h: what the WDK's wdm.h gives a driver beyond cmhook's ntddk.h.
 *
 * On Windows, ntddk.h includes wdm.h, the kernel-mode base, and wdm.h declares most of what
 * a registry filter calls (CmRegisterCallback, the Zw*Key routines, DRIVER_OBJECT, pool,
 * locks, DbgPrint). In cmhook those declarations stay in ntddk.h, the one header the Python
 * bindings and the kernel shim are generated from; ntddk.h includes this file after them, and
 * this file holds the rest of wdm.h that cmhook has: doubly and singly linked lists, integer
 * limits, the size, offset and alignment macros, ASSERT and its family, PAGED_CODE(), the
 * role typedefs of the routines a driver writes (DRIVER_ADD_DEVICE, KDEFERRED_ROUTINE,
 * KSTART_ROUTINE, IO_WORKITEM_ROUTINE ...) with the opaque I/O types they name, and
 * IRP_MJ_* codes. `#include <wdm.h>` on its own includes ntddk.h, so a driver gets all of
 * ntddk.h either way (on Windows, wdm.h alone is a subset).
 *
 * Structs here are Windows x64 exact and in the ABI tests (SINGLE_LIST_ENTRY, the dispatcher
 * objects: KDPC, KTIMER, KMUTEX, KSEMAPHORE, WORK_QUEUE_ITEM; LIST_ENTRY is in ntddk.h);
 * the I/O objects a filter only points to (IRP, DEVICE_OBJECT, IO_WORKITEM,
 * FILE_OBJECT) are incomplete types, as the routines that make them are not in the harness:
 * a driver that declares one by value, or dereferences one, does not compile.
 *
 * Assertions are checked unless the build defines DBG as 0 (a free build): the harness is a
 * test bench, a checked build's place. A failed ASSERT, NT_ASSERT or NT_VERIFY prints what
 * Windows' RtlAssert prints ("*** Assertion failed: ...", the file and the line) through
 * DbgPrint and goes on, as a checked build does when the debugger says "ignore".
 */
#ifndef _CMHOOK_NTDDK_H_
/* On its own: ntddk.h holds the declarations and includes this file after them. */
#include "ntddk.h"
#elif !defined(_CMHOOK_WDM_H_)
#define _CMHOOK_WDM_H_
#define _WDMDDK_

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Integer limits (ntdef.h, basetsd.h, winnt.h), with Windows' values and types.
 * ------------------------------------------------------------------------ */
#define MINCHAR       0x80
#define MAXCHAR       0x7f
#define MINSHORT      0x8000
#define MAXSHORT      0x7fff
#define MINLONG       0x80000000
#define MAXLONG       0x7fffffff
#define MAXUCHAR      0xff
#define MAXUSHORT     0xffff
#define MAXULONG      0xffffffff
#define MAXLONGLONG   (0x7fffffffffffffffll)
#define MINLONGLONG   ((LONGLONG)~MAXLONGLONG)
#define MAXULONGLONG  ((ULONGLONG)~((ULONGLONG)0))
#define MAXUINT       ((UINT)~((UINT)0))
#define MAXINT        ((INT)(MAXUINT >> 1))
#define MININT        ((INT)~MAXINT)
#define MAXDWORD      0xffffffff
#define MAXULONG_PTR  (~((ULONG_PTR)0))
#define MAXLONG_PTR   ((LONG_PTR)(MAXULONG_PTR >> 1))
#define MINLONG_PTR   (~MAXLONG_PTR)
#define MAXUINT_PTR   (~((UINT_PTR)0))
#define MAXINT_PTR    ((INT_PTR)(MAXUINT_PTR >> 1))
#define MININT_PTR    (~MAXINT_PTR)
#define MAXSIZE_T     ((SIZE_T)~((SIZE_T)0))
#define MAXSSIZE_T    ((SSIZE_T)(MAXSIZE_T >> 1))
#define MINSSIZE_T    ((SSIZE_T)~MAXSSIZE_T)

/* Pages and allocation alignment on x64. */
#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12
#define MEMORY_ALLOCATION_ALIGNMENT 16

#define STATUS_ASSERTION_FAILURE ((NTSTATUS)0xC0000420)

/* The WDK's tests for MSVC's section pragmas: defined, so that `#ifdef ALLOC_PRAGMA` code keeps its
 * `#pragma alloc_text(...)` lines, which gcc and clang then ignore (ntddk.h). */
#define ALLOC_PRAGMA 1
#define ALLOC_DATA_PRAGMA 1

/* ------------------------------------------------------------------------
 * Linked lists. A LIST_ENTRY heads a circular doubly linked list (an empty one points at
 * itself) or is a member of one; CONTAINING_RECORD gets from a member back to its record.
 * ------------------------------------------------------------------------ */
/* LIST_ENTRY itself is in ntddk.h, before the dispatcher header that holds one. */

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* ------------------------------------------------------------------------
 * I/O objects a driver's routines receive, as incomplete types (see above), and the major
 * function codes that index DRIVER_OBJECT.MajorFunction.
 * ------------------------------------------------------------------------ */
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT;
typedef struct _IRP IRP, *PIRP;
typedef struct _FILE_OBJECT FILE_OBJECT, *PFILE_OBJECT;
typedef struct _IO_WORKITEM IO_WORKITEM, *PIO_WORKITEM;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef PVOID PACCESS_TOKEN;
typedef PVOID PSID;

#define IRP_MJ_CREATE                   0x00
#define IRP_MJ_CREATE_NAMED_PIPE        0x01
#define IRP_MJ_CLOSE                    0x02
#define IRP_MJ_READ                     0x03
#define IRP_MJ_WRITE                    0x04
#define IRP_MJ_QUERY_INFORMATION        0x05
#define IRP_MJ_SET_INFORMATION          0x06
#define IRP_MJ_QUERY_EA                 0x07
#define IRP_MJ_SET_EA                   0x08
#define IRP_MJ_FLUSH_BUFFERS            0x09
#define IRP_MJ_QUERY_VOLUME_INFORMATION 0x0a
#define IRP_MJ_SET_VOLUME_INFORMATION   0x0b
#define IRP_MJ_DIRECTORY_CONTROL        0x0c
#define IRP_MJ_FILE_SYSTEM_CONTROL      0x0d
#define IRP_MJ_DEVICE_CONTROL           0x0e
#define IRP_MJ_INTERNAL_DEVICE_CONTROL  0x0f
#define IRP_MJ_SHUTDOWN                 0x10
#define IRP_MJ_LOCK_CONTROL             0x11
#define IRP_MJ_CLEANUP                  0x12
#define IRP_MJ_CREATE_MAILSLOT          0x13
#define IRP_MJ_QUERY_SECURITY           0x14
#define IRP_MJ_SET_SECURITY             0x15
#define IRP_MJ_POWER                    0x16
#define IRP_MJ_SYSTEM_CONTROL           0x17
#define IRP_MJ_DEVICE_CHANGE            0x18
#define IRP_MJ_QUERY_QUOTA              0x19
#define IRP_MJ_SET_QUOTA                0x1a
#define IRP_MJ_PNP                      0x1b

/* ------------------------------------------------------------------------
 * Role typedefs: a driver declares its routines with them (`DRIVER_UNLOAD MyUnload;`,
 * `KSTART_ROUTINE Worker;`), and each has its pointer type. DRIVER_INITIALIZE,
 * DRIVER_UNLOAD, DRIVER_DISPATCH, DRIVER_STARTIO and EX_CALLBACK_FUNCTION are in ntddk.h.
 * ------------------------------------------------------------------------ */
typedef DRIVER_DISPATCH DRIVER_DISPATCH_RAISED;
typedef DRIVER_DISPATCH DRIVER_DISPATCH_PAGED;

typedef NTSTATUS NTAPI DRIVER_ADD_DEVICE(IN struct _DRIVER_OBJECT *DriverObject,
    IN PDEVICE_OBJECT PhysicalDeviceObject);
typedef DRIVER_ADD_DEVICE *PDRIVER_ADD_DEVICE;

typedef VOID NTAPI DRIVER_REINITIALIZE(IN struct _DRIVER_OBJECT *DriverObject, IN PVOID Context OPTIONAL,
    IN ULONG Count);
typedef DRIVER_REINITIALIZE *PDRIVER_REINITIALIZE;

typedef VOID NTAPI DRIVER_CANCEL(IN OUT PDEVICE_OBJECT DeviceObject, IN OUT PIRP Irp);
typedef DRIVER_CANCEL *PDRIVER_CANCEL;

typedef NTSTATUS NTAPI IO_COMPLETION_ROUTINE(IN PDEVICE_OBJECT DeviceObject, IN PIRP Irp,
    IN PVOID Context OPTIONAL);
typedef IO_COMPLETION_ROUTINE *PIO_COMPLETION_ROUTINE;

typedef VOID NTAPI IO_TIMER_ROUTINE(IN PDEVICE_OBJECT DeviceObject, IN PVOID Context OPTIONAL);
typedef IO_TIMER_ROUTINE *PIO_TIMER_ROUTINE;

typedef VOID NTAPI IO_WORKITEM_ROUTINE(IN PDEVICE_OBJECT DeviceObject, IN PVOID Context OPTIONAL);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;

struct _KDPC;
typedef VOID NTAPI KDEFERRED_ROUTINE(IN struct _KDPC *Dpc, IN PVOID DeferredContext OPTIONAL,
    IN PVOID SystemArgument1 OPTIONAL, IN PVOID SystemArgument2 OPTIONAL);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef BOOLEAN NTAPI KSYNCHRONIZE_ROUTINE(IN PVOID SynchronizeContext);
typedef KSYNCHRONIZE_ROUTINE *PKSYNCHRONIZE_ROUTINE;

typedef VOID NTAPI KSTART_ROUTINE(IN PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;

typedef VOID NTAPI WORKER_THREAD_ROUTINE(IN PVOID Parameter);
typedef WORKER_THREAD_ROUTINE *PWORKER_THREAD_ROUTINE;

typedef VOID NTAPI CALLBACK_FUNCTION(IN PVOID CallbackContext OPTIONAL, IN PVOID Argument1 OPTIONAL,
    IN PVOID Argument2 OPTIONAL);
typedef CALLBACK_FUNCTION *PCALLBACK_FUNCTION;

typedef PVOID NTAPI ALLOCATE_FUNCTION(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
typedef ALLOCATE_FUNCTION *PALLOCATE_FUNCTION;

typedef VOID NTAPI FREE_FUNCTION(IN PVOID Buffer);
typedef FREE_FUNCTION *PFREE_FUNCTION;

/* Process and thread notifications (ntddk.h on Windows): a create or an exit. */
typedef VOID (NTAPI *PCREATE_PROCESS_NOTIFY_ROUTINE)(IN HANDLE ParentId, IN HANDLE ProcessId, IN BOOLEAN Create);
typedef VOID (NTAPI *PCREATE_THREAD_NOTIFY_ROUTINE)(IN HANDLE ProcessId, IN HANDLE ThreadId, IN BOOLEAN Create);

/* ------------------------------------------------------------------------
 * Dispatcher objects, timers, DPCs, system threads and work items (kewait). Windows x64
 * layouts (DISPATCHER_HEADER and KEVENT are in ntddk.h, FAST_MUTEX holds a KEVENT); the
 * shim implements them in harness/shim/ke_dispatcher.c and ke_threads.c, whose docstrings
 * give the rules: waits really block, timeouts and timers follow the emulated clock.
 * ------------------------------------------------------------------------ */
typedef enum _EVENT_TYPE {
    NotificationEvent,
    SynchronizationEvent
} EVENT_TYPE;

typedef enum _TIMER_TYPE {
    NotificationTimer,
    SynchronizationTimer
} TIMER_TYPE;

typedef enum _WAIT_TYPE {
    WaitAll,
    WaitAny
} WAIT_TYPE;

typedef enum _KWAIT_REASON {
    Executive,
    FreePage,
    PageIn,
    PoolAllocation,
    DelayExecution,
    Suspended,
    UserRequest,
    WrExecutive,
    WrFreePage,
    WrPageIn,
    WrPoolAllocation,
    WrDelayExecution,
    WrSuspended,
    WrUserRequest
} KWAIT_REASON;

typedef enum _WORK_QUEUE_TYPE {
    CriticalWorkQueue,
    DelayedWorkQueue,
    HyperCriticalWorkQueue
} WORK_QUEUE_TYPE;

typedef LONG KPRIORITY;

#define MAXIMUM_WAIT_OBJECTS 64
#define THREAD_WAIT_OBJECTS 3
#define EVENT_INCREMENT 1
#define IO_NO_INCREMENT 0
#define SEMAPHORE_INCREMENT 1
#define STATUS_ABANDONED_WAIT_0          ((NTSTATUS)0x00000080)
#define STATUS_USER_APC                  ((NTSTATUS)0x000000C0)
#define STATUS_ALERTED                   ((NTSTATUS)0x00000101)
#define STATUS_MUTANT_NOT_OWNED          ((NTSTATUS)0xC0000046)
#define STATUS_SEMAPHORE_LIMIT_EXCEEDED  ((NTSTATUS)0xC0000047)
#define THREAD_NOT_MUTEX_OWNER           ((ULONG)0x00000011)
#define DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS ((ULONG)0x000000CE)

typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;
    LIST_ENTRY MutantListEntry;
    struct _KTHREAD *OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;

typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header;
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;

typedef struct _KDPC {
    UCHAR Type;
    UCHAR Importance;
    volatile USHORT Number;
    LIST_ENTRY DpcListEntry;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

typedef struct _KTIMER {
    DISPATCHER_HEADER Header;
    ULARGE_INTEGER DueTime;
    LIST_ENTRY TimerListEntry;
    struct _KDPC *Dpc;
    ULONG Processor;
    ULONG Period;
} KTIMER, *PKTIMER, *PRKTIMER;

typedef struct _WORK_QUEUE_ITEM {
    LIST_ENTRY List;
    PWORKER_THREAD_ROUTINE WorkerRoutine;
    volatile PVOID Parameter;
} WORK_QUEUE_ITEM, *PWORK_QUEUE_ITEM;

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

typedef VOID NTAPI IO_WORKITEM_ROUTINE_EX(IN PVOID IoObject, IN PVOID Context OPTIONAL, IN PIO_WORKITEM IoWorkItem);
typedef IO_WORKITEM_ROUTINE_EX *PIO_WORKITEM_ROUTINE_EX;

NTKERNELAPI VOID NTAPI KeInitializeEvent(OUT PRKEVENT Event, IN EVENT_TYPE Type, IN BOOLEAN State);
NTKERNELAPI LONG NTAPI KeSetEvent(IN OUT PRKEVENT Event, IN KPRIORITY Increment, IN BOOLEAN Wait);
NTKERNELAPI LONG NTAPI KeResetEvent(IN OUT PRKEVENT Event);
NTKERNELAPI VOID NTAPI KeClearEvent(IN OUT PRKEVENT Event);
NTKERNELAPI LONG NTAPI KeReadStateEvent(IN PRKEVENT Event);
NTKERNELAPI VOID NTAPI KeInitializeMutex(OUT PRKMUTEX Mutex, IN ULONG Level);
NTKERNELAPI LONG NTAPI KeReleaseMutex(IN OUT PRKMUTEX Mutex, IN BOOLEAN Wait);
NTKERNELAPI LONG NTAPI KeReadStateMutex(IN PRKMUTEX Mutex);
NTKERNELAPI VOID NTAPI KeInitializeSemaphore(OUT PRKSEMAPHORE Semaphore, IN LONG Count, IN LONG Limit);
NTKERNELAPI LONG NTAPI KeReleaseSemaphore(IN OUT PRKSEMAPHORE Semaphore, IN KPRIORITY Increment,
    IN LONG Adjustment, IN BOOLEAN Wait);
NTKERNELAPI LONG NTAPI KeReadStateSemaphore(IN PRKSEMAPHORE Semaphore);
NTKERNELAPI NTSTATUS NTAPI KeWaitForSingleObject(IN PVOID Object, IN KWAIT_REASON WaitReason,
    IN KPROCESSOR_MODE WaitMode, IN BOOLEAN Alertable, IN PLARGE_INTEGER Timeout OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI KeWaitForMultipleObjects(IN ULONG Count, IN PVOID Object[], IN WAIT_TYPE WaitType,
    IN KWAIT_REASON WaitReason, IN KPROCESSOR_MODE WaitMode, IN BOOLEAN Alertable,
    IN PLARGE_INTEGER Timeout OPTIONAL, OUT PVOID WaitBlockArray OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI KeDelayExecutionThread(IN KPROCESSOR_MODE WaitMode, IN BOOLEAN Alertable,
    IN PLARGE_INTEGER Interval);
NTKERNELAPI VOID NTAPI KeInitializeTimer(OUT PKTIMER Timer);
NTKERNELAPI VOID NTAPI KeInitializeTimerEx(OUT PKTIMER Timer, IN TIMER_TYPE Type);
NTKERNELAPI BOOLEAN NTAPI KeSetTimer(IN OUT PKTIMER Timer, IN LARGE_INTEGER DueTime, IN PKDPC Dpc OPTIONAL);
NTKERNELAPI BOOLEAN NTAPI KeSetTimerEx(IN OUT PKTIMER Timer, IN LARGE_INTEGER DueTime, IN LONG Period,
    IN PKDPC Dpc OPTIONAL);
NTKERNELAPI BOOLEAN NTAPI KeCancelTimer(IN OUT PKTIMER Timer);
NTKERNELAPI BOOLEAN NTAPI KeReadStateTimer(IN PKTIMER Timer);
NTKERNELAPI VOID NTAPI KeInitializeDpc(OUT PRKDPC Dpc, IN PKDEFERRED_ROUTINE DeferredRoutine,
    IN PVOID DeferredContext OPTIONAL);
NTKERNELAPI BOOLEAN NTAPI KeInsertQueueDpc(IN OUT PRKDPC Dpc, IN PVOID SystemArgument1 OPTIONAL,
    IN PVOID SystemArgument2 OPTIONAL);
NTKERNELAPI BOOLEAN NTAPI KeRemoveQueueDpc(IN OUT PRKDPC Dpc);
NTKERNELAPI PKTHREAD NTAPI KeGetCurrentThread(VOID);
NTKERNELAPI PETHREAD NTAPI PsGetCurrentThread(VOID);
NTKERNELAPI NTSTATUS NTAPI PsCreateSystemThread(OUT PHANDLE ThreadHandle, IN ULONG DesiredAccess,
    IN POBJECT_ATTRIBUTES ObjectAttributes OPTIONAL, IN HANDLE ProcessHandle OPTIONAL,
    OUT PCLIENT_ID ClientId OPTIONAL, IN PKSTART_ROUTINE StartRoutine, IN PVOID StartContext OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI PsTerminateSystemThread(IN NTSTATUS ExitStatus);
NTKERNELAPI PIO_WORKITEM NTAPI IoAllocateWorkItem(IN PDEVICE_OBJECT DeviceObject);
NTKERNELAPI VOID NTAPI IoFreeWorkItem(IN PIO_WORKITEM IoWorkItem);
NTKERNELAPI VOID NTAPI IoQueueWorkItem(IN OUT PIO_WORKITEM IoWorkItem, IN PIO_WORKITEM_ROUTINE WorkerRoutine,
    IN WORK_QUEUE_TYPE QueueType, IN PVOID Context OPTIONAL);
NTKERNELAPI VOID NTAPI IoQueueWorkItemEx(IN OUT PIO_WORKITEM IoWorkItem, IN PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
    IN WORK_QUEUE_TYPE QueueType, IN PVOID Context OPTIONAL);
NTKERNELAPI VOID NTAPI ExQueueWorkItem(IN OUT PWORK_QUEUE_ITEM WorkItem, IN WORK_QUEUE_TYPE QueueType);

#ifndef __CMHOOK_BINDGEN__
/* The object type a driver names to reference a thread handle (ObReferenceObjectByHandle). */
extern POBJECT_TYPE *PsThreadType;
#define ExInitializeWorkItem(Item, Routine, Context) \
    do {                                             \
        (Item)->WorkerRoutine = (Routine);           \
        (Item)->Parameter = (Context);               \
        (Item)->List.Flink = NULL;                   \
    } while (0)
#endif
/* --- end of dispatcher objects, timers, DPCs, threads, work items (kewait) */

#ifndef __CMHOOK_BINDGEN__
/* ------------------------------------------------------------------------
 * Sizes, offsets, alignment (FIELD_OFFSET and CONTAINING_RECORD are in ntddk.h).
 * ------------------------------------------------------------------------ */
#define NTAPI_INLINE NTAPI
#define NOP_FUNCTION ((void)0)
#define C_ASSERT(e) _Static_assert((e), "C_ASSERT(" #e ")")
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_FIELD_TYPE(type, field) __typeof__(((type *)0)->field)
#define RTL_SIZEOF_THROUGH_FIELD(type, field) (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_CONTAINS_FIELD(Struct, Size, Field) \
    ((((PCHAR)(&(Struct)->Field)) + sizeof((Struct)->Field)) <= (((PCHAR)(Struct)) + (Size)))
#define RTL_NUMBER_OF_V1(A) (sizeof(A) / sizeof((A)[0]))
#define RTL_NUMBER_OF_V2(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF_FIELD(type, field) (RTL_NUMBER_OF(((type *)0)->field))
#define ARRAYSIZE(A) RTL_NUMBER_OF_V2(A)
#ifndef _countof
#define _countof(A) RTL_NUMBER_OF(A)
#endif
#define RTL_BITS_OF(sizeOfArg) (sizeof(sizeOfArg) * 8)
#define RTL_BITS_OF_FIELD(type, field) (RTL_BITS_OF(RTL_FIELD_TYPE(type, field)))

#define ALIGN_DOWN_BY(length, alignment) (((ULONG_PTR)(length)) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment) (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment))
#define ALIGN_DOWN_POINTER_BY(address, alignment) \
    ((PVOID)((ULONG_PTR)(address) & ~((ULONG_PTR)(alignment) - 1)))
#define ALIGN_UP_POINTER_BY(address, alignment) \
    (ALIGN_DOWN_POINTER_BY(((ULONG_PTR)(address) + (alignment) - 1), alignment))
#define ALIGN_DOWN(length, type) ALIGN_DOWN_BY(length, sizeof(type))
#define ALIGN_UP(length, type) ALIGN_UP_BY(length, sizeof(type))
#define ALIGN_DOWN_POINTER(address, type) ALIGN_DOWN_POINTER_BY(address, sizeof(type))
#define ALIGN_UP_POINTER(address, type) ALIGN_UP_POINTER_BY(address, sizeof(type))
#define BYTE_OFFSET(Va) ((ULONG)((LONG_PTR)(Va) & (PAGE_SIZE - 1)))
#define PAGE_ALIGN(Va) ((PVOID)((ULONG_PTR)(Va) & ~(PAGE_SIZE - 1)))
#define ROUND_TO_PAGES(Size) (((ULONG_PTR)(Size) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define BYTES_TO_PAGES(Size) (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va, Size) \
    ((BYTE_OFFSET(Va) + ((SIZE_T)(Size)) + (PAGE_SIZE - 1)) >> PAGE_SHIFT)

#ifndef NOMINMAX
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif

#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))

/* ------------------------------------------------------------------------
 * Counted strings over a caller's buffer.
 * ------------------------------------------------------------------------ */
FORCEINLINE VOID RtlInitEmptyUnicodeString(OUT PUNICODE_STRING UnicodeString, IN PWCHAR Buffer, IN USHORT BufferSize)
{
    UnicodeString->Length = 0;
    UnicodeString->MaximumLength = BufferSize;
    UnicodeString->Buffer = Buffer;
}

FORCEINLINE VOID RtlInitEmptyAnsiString(OUT PANSI_STRING AnsiString, IN PCHAR Buffer, IN USHORT BufferSize)
{
    AnsiString->Length = 0;
    AnsiString->MaximumLength = BufferSize;
    AnsiString->Buffer = Buffer;
}

/* L"..." strings: build with -fshort-wchar (cmhook build does). */
#define DECLARE_CONST_UNICODE_STRING(_var, _string) \
    const WCHAR _var##_buffer[] = _string; \
    const UNICODE_STRING _var = { sizeof(_string) - sizeof(WCHAR), sizeof(_string), (PWCH)_var##_buffer }
#define DECLARE_GLOBAL_CONST_UNICODE_STRING(_var, _str) \
    const UNICODE_STRING _var = RTL_CONSTANT_STRING(_str)
#define DECLARE_UNICODE_STRING_SIZE(_var, _size) \
    WCHAR _var##_buffer[_size]; \
    UNICODE_STRING _var = { 0, (_size) * sizeof(WCHAR), _var##_buffer }

/* ------------------------------------------------------------------------
 * Doubly and singly linked lists, as the WDK's inline routines behave (no corruption
 * checks: Server 2003's lists have none). RemoveEntryList returns TRUE when the list it
 * took the entry from is now empty; RemoveHeadList and RemoveTailList of an empty list
 * return the head itself; PopEntryList of an empty list returns NULL.
 * ------------------------------------------------------------------------ */
FORCEINLINE VOID InitializeListHead(OUT PLIST_ENTRY ListHead)
{
    ListHead->Flink = ListHead->Blink = ListHead;
}

FORCEINLINE BOOLEAN IsListEmpty(IN const LIST_ENTRY *ListHead)
{
    return (BOOLEAN)(ListHead->Flink == ListHead);
}

FORCEINLINE BOOLEAN RemoveEntryList(IN PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = Entry->Flink;
    PLIST_ENTRY Blink = Entry->Blink;
    Blink->Flink = Flink;
    Flink->Blink = Blink;
    return (BOOLEAN)(Flink == Blink);
}

FORCEINLINE PLIST_ENTRY RemoveHeadList(IN OUT PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Flink;
    PLIST_ENTRY Flink = Entry->Flink;
    ListHead->Flink = Flink;
    Flink->Blink = ListHead;
    return Entry;
}

FORCEINLINE PLIST_ENTRY RemoveTailList(IN OUT PLIST_ENTRY ListHead)
{
    PLIST_ENTRY Entry = ListHead->Blink;
    PLIST_ENTRY Blink = Entry->Blink;
    ListHead->Blink = Blink;
    Blink->Flink = ListHead;
    return Entry;
}

FORCEINLINE VOID InsertTailList(IN OUT PLIST_ENTRY ListHead, IN OUT PLIST_ENTRY Entry)
{
    PLIST_ENTRY Blink = ListHead->Blink;
    Entry->Flink = ListHead;
    Entry->Blink = Blink;
    Blink->Flink = Entry;
    ListHead->Blink = Entry;
}

FORCEINLINE VOID InsertHeadList(IN OUT PLIST_ENTRY ListHead, IN OUT PLIST_ENTRY Entry)
{
    PLIST_ENTRY Flink = ListHead->Flink;
    Entry->Flink = Flink;
    Entry->Blink = ListHead;
    Flink->Blink = Entry;
    ListHead->Flink = Entry;
}

/* Links the list ListToAppend points into (its head entry first) after ListHead's last entry. */
FORCEINLINE VOID AppendTailList(IN OUT PLIST_ENTRY ListHead, IN OUT PLIST_ENTRY ListToAppend)
{
    PLIST_ENTRY ListEnd = ListHead->Blink;
    ListHead->Blink->Flink = ListToAppend;
    ListHead->Blink = ListToAppend->Blink;
    ListToAppend->Blink->Flink = ListHead;
    ListToAppend->Blink = ListEnd;
}

FORCEINLINE PSINGLE_LIST_ENTRY PopEntryList(IN OUT PSINGLE_LIST_ENTRY ListHead)
{
    PSINGLE_LIST_ENTRY FirstEntry = ListHead->Next;
    if (FirstEntry != NULL)
        ListHead->Next = FirstEntry->Next;
    return FirstEntry;
}

FORCEINLINE VOID PushEntryList(IN OUT PSINGLE_LIST_ENTRY ListHead, IN OUT PSINGLE_LIST_ENTRY Entry)
{
    Entry->Next = ListHead->Next;
    ListHead->Next = Entry;
}

/* ------------------------------------------------------------------------
 * Assertions. Checked unless DBG is defined as 0. A failure prints RtlAssert's report through
 * DbgPrint (the driver's own output) and execution goes on; the expression's text, the file and
 * the line name it. NT_VERIFY and RTL_VERIFY evaluate their expression in every build and give
 * its truth as a BOOLEAN; ASSERT and NT_ASSERT do not evaluate it in a free build.
 * ------------------------------------------------------------------------ */
/* A call, not a bare conditional: NT_VERIFY(...) as a statement computes nothing unused. */
FORCEINLINE BOOLEAN CmhookTruth(IN BOOLEAN Holds)
{
    return Holds;
}

#if !defined(DBG) || DBG
FORCEINLINE VOID CmhookAssertionFailed(IN PCSTR Expression, IN PCSTR File, IN ULONG Line, IN PCSTR Message)
{
    /* RtlAssert prints Windows' text and the verifier records the finding; execution goes on. */
    RtlAssert((PVOID)Expression, (PVOID)File, Line, (PSTR)Message);
}

FORCEINLINE VOID CmhookAssertionFailedW(IN PCSTR Expression, IN PCSTR File, IN ULONG Line, IN PCWSTR Message)
{
    /* RtlAssert takes a narrow message: the wide one is passed on with what is not ASCII as '?'. */
    CHAR Narrow[256];
    ULONG Index = 0;
    if (Message != NULL)
        for (; Message[Index] != 0 && Index < sizeof(Narrow) - 1; Index++)
            Narrow[Index] = Message[Index] < 0x80 ? (CHAR)Message[Index] : '?';
    Narrow[Index] = 0;
    RtlAssert((PVOID)Expression, (PVOID)File, Line, Message != NULL ? Narrow : NULL);
}

FORCEINLINE BOOLEAN CmhookVerify(IN BOOLEAN Holds, IN PCSTR Expression, IN PCSTR File, IN ULONG Line)
{
    if (!Holds)
        CmhookAssertionFailed(Expression, File, Line, NULL);
    return Holds;
}

FORCEINLINE BOOLEAN CmhookVerifyMessage(IN BOOLEAN Holds, IN PCSTR Expression, IN PCSTR File, IN ULONG Line,
                                        IN PCSTR Message)
{
    if (!Holds)
        CmhookAssertionFailed(Expression, File, Line, Message);
    return Holds;
}

FORCEINLINE VOID CmhookPagedCodeFailed(IN PCSTR File, IN ULONG Line)
{
    DbgPrint("EX: Pageable code called at IRQL %d\n", (int)KeGetCurrentIrql());
    CmhookAssertionFailed("FALSE", File, Line, NULL);
}

#define ASSERT(exp) ((void)(!(exp) ? (CmhookAssertionFailed(#exp, __FILE__, __LINE__, NULL), 0) : 1))
#define ASSERTMSG(msg, exp) ((void)(!(exp) ? (CmhookAssertionFailed(#exp, __FILE__, __LINE__, (msg)), 0) : 1))
#define NT_ASSERT(exp) ((void)(!(exp) ? (CmhookAssertionFailed(#exp, __FILE__, __LINE__, NULL), 0) : 1))
#define NT_ASSERTMSG(msg, exp) ((void)(!(exp) ? (CmhookAssertionFailed(#exp, __FILE__, __LINE__, (msg)), 0) : 1))
#define NT_ASSERTMSGW(msg, exp) \
    ((void)(!(exp) ? (CmhookAssertionFailedW(#exp, __FILE__, __LINE__, (msg)), 0) : 1))
#define NT_VERIFY(exp) CmhookVerify((BOOLEAN)!!(exp), #exp, __FILE__, __LINE__)
#define NT_VERIFYMSG(msg, exp) CmhookVerifyMessage((BOOLEAN)!!(exp), #exp, __FILE__, __LINE__, (msg))
#define RTL_VERIFY(exp) CmhookVerify((BOOLEAN)!!(exp), #exp, __FILE__, __LINE__)
#define RTL_SOFT_ASSERT(exp) \
    ((void)(!(exp) ? (DbgPrint("%s(%d): Soft assertion failed\n   Expression: %s\n", __FILE__, __LINE__, #exp), 0) : 1))
#define RTL_SOFT_ASSERTMSG(msg, exp) \
    ((void)(!(exp) ? (DbgPrint("%s(%d): Soft assertion failed\n   Expression: %s\n   Message: %s\n", \
                               __FILE__, __LINE__, #exp, (msg)), 0) : 1))
/* Pageable code runs at APC_LEVEL or below; above it, Windows could take a page fault it
 * cannot serve. */
#define PAGED_CODE() \
    do { \
        if (KeGetCurrentIrql() > APC_LEVEL) \
            CmhookPagedCodeFailed(__FILE__, __LINE__); \
    } while (0)
#define PAGED_ASSERT(exp) ((void)(!(exp) ? (CmhookAssertionFailed(#exp, __FILE__, __LINE__, NULL), 0) : 1))
#else
#define ASSERT(exp) ((void)0)
#define ASSERTMSG(msg, exp) ((void)0)
#define NT_ASSERT(exp) ((void)0)
#define NT_ASSERTMSG(msg, exp) ((void)0)
#define NT_ASSERTMSGW(msg, exp) ((void)0)
#define NT_VERIFY(exp) CmhookTruth((BOOLEAN)!!(exp))
#define NT_VERIFYMSG(msg, exp) CmhookTruth((BOOLEAN)!!(exp))
#define RTL_VERIFY(exp) CmhookTruth((BOOLEAN)!!(exp))
#define RTL_SOFT_ASSERT(exp) ((void)0)
#define RTL_SOFT_ASSERTMSG(msg, exp) ((void)0)
#define PAGED_CODE() NOP_FUNCTION
#define PAGED_ASSERT(exp) ((void)0)
#endif
#define NT_ANALYSIS_ASSUME(exp) ((void)0)
#define PAGED_CODE_LOCKED() NOP_FUNCTION
#endif /* __CMHOOK_BINDGEN__ */

#ifdef __cplusplus
}
#endif

#endif /* _CMHOOK_WDM_H_ */
