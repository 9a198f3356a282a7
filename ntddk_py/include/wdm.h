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
 * Structs here are Windows x64 exact and in the ABI tests (SINGLE_LIST_ENTRY; the dispatcher
 * objects: KTIMER, KMUTEX, KSEMAPHORE, WORK_QUEUE_ITEM; LIST_ENTRY is in ntddk.h; and wdm_io.h's
 * I/O manager objects: DEVICE_OBJECT, IRP, IO_STACK_LOCATION, FILE_OBJECT, MDL, KDPC ...);
 * IO_WORKITEM stays an incomplete type: a driver that declares one by value, or dereferences one,
 * does not compile.
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
typedef struct _IO_WORKITEM IO_WORKITEM, *PIO_WORKITEM;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef PVOID PACCESS_TOKEN;
typedef PVOID PSID;

#include "wdm_io.h"

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

/* Process and thread notifications (PCREATE_PROCESS_NOTIFY_ROUTINE, PCREATE_THREAD_NOTIFY_ROUTINE): in
 * ntddk.h, as on Windows, before the routines that register them. */

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

/* KDPC is in wdm_io.h (DEVICE_OBJECT holds one). */

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

/* CLIENT_ID is in ntddk.h (processes). */

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

/* ------------------------------------------------------------------------
 * Ex pool variants, lookaside lists, resources, push locks, APC regions,
 * queued spin locks, IRQL, and time (harness/shim/ex_pool.c, ex_locks.c,
 * ex_time.c). Layouts are Windows x64's (mingw-w64's ddk/wdm.h); what is
 * newer than Server 2003 is declared only for a target that has it
 * (NTDDI_VERSION), as the WDK declares it.
 * ------------------------------------------------------------------------ */
#ifndef FASTCALL
#define FASTCALL
#endif

typedef enum _EX_POOL_PRIORITY {
    LowPoolPriority,
    LowPoolPrioritySpecialPoolOverrun = 8,
    LowPoolPrioritySpecialPoolUnderrun = 9,
    NormalPoolPriority = 16,
    NormalPoolPrioritySpecialPoolOverrun = 24,
    NormalPoolPrioritySpecialPoolUnderrun = 25,
    HighPoolPriority = 32,
    HighPoolPrioritySpecialPoolOverrun = 40,
    HighPoolPrioritySpecialPoolUnderrun = 41
} EX_POOL_PRIORITY;

/* Pool: zeroed or not, with quota (quota is not emulated: charged to nobody). */
NTKERNELAPI PVOID NTAPI ExAllocatePoolWithQuotaTag(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTagPriority(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag,
    IN EX_POOL_PRIORITY Priority);
NTKERNELAPI PVOID NTAPI ExAllocatePoolZero(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePoolUninitialized(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePoolQuotaZero(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePoolQuotaUninitialized(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes,
    IN ULONG Tag);

/* Time: TIME_FIELDS, the clock's readings (harness/routines/ketime.py: interrupt time counts from the
 * kernel's boot on the emulated clock; the performance counter runs at 10 MHz on it; a tick is
 * 15.625 ms), and the time zone (UTC: a bias of 0). */
typedef struct _TIME_FIELDS {
    CSHORT Year;
    CSHORT Month;
    CSHORT Day;
    CSHORT Hour;
    CSHORT Minute;
    CSHORT Second;
    CSHORT Milliseconds;
    CSHORT Weekday;
} TIME_FIELDS, *PTIME_FIELDS;

NTSYSAPI VOID NTAPI RtlTimeToTimeFields(IN PLARGE_INTEGER Time, OUT PTIME_FIELDS TimeFields);
NTSYSAPI BOOLEAN NTAPI RtlTimeFieldsToTime(IN PTIME_FIELDS TimeFields, OUT PLARGE_INTEGER Time);
NTKERNELAPI VOID NTAPI ExSystemTimeToLocalTime(IN PLARGE_INTEGER SystemTime, OUT PLARGE_INTEGER LocalTime);
NTKERNELAPI VOID NTAPI ExLocalTimeToSystemTime(IN PLARGE_INTEGER LocalTime, OUT PLARGE_INTEGER SystemTime);
NTKERNELAPI ULONGLONG NTAPI KeQueryInterruptTime(VOID);
NTKERNELAPI VOID NTAPI KeQueryTickCount(OUT PLARGE_INTEGER CurrentCount);
NTKERNELAPI ULONG NTAPI KeQueryTimeIncrement(VOID);
NTHALAPI LARGE_INTEGER NTAPI KeQueryPerformanceCounter(OUT PLARGE_INTEGER PerformanceFrequency OPTIONAL);

/* Executive resources: shared/exclusive, recursive for their owner. The shim keeps its lock beside
 * the struct (OwnerTable points to it from ExInitializeResourceLite to ExDeleteResourceLite). */
typedef ULONG_PTR ERESOURCE_THREAD, *PERESOURCE_THREAD;

typedef struct _OWNER_ENTRY {
    ERESOURCE_THREAD OwnerThread;
    union {
#ifndef __CMHOOK_BINDGEN__
        struct {
            ULONG IoPriorityBoosted : 1;
            ULONG OwnerReferenced : 1;
            ULONG OwnerCount : 30;
        };
#endif
        ULONG TableSize;
    };
} OWNER_ENTRY, *POWNER_ENTRY;

typedef struct _ERESOURCE {
    LIST_ENTRY SystemResourcesList;
    POWNER_ENTRY OwnerTable;
    SHORT ActiveCount;
    USHORT Flag;
    struct _KSEMAPHORE *volatile SharedWaiters;
    PKEVENT volatile ExclusiveWaiters;
    OWNER_ENTRY OwnerEntry;
    ULONG ActiveEntries;
    ULONG ContentionCount;
    ULONG NumberOfSharedWaiters;
    ULONG NumberOfExclusiveWaiters;
    PVOID Reserved2;
    union {
        PVOID Address;
        ULONG_PTR CreatorBackTraceIndex;
    };
    KSPIN_LOCK SpinLock;
} ERESOURCE, *PERESOURCE;

#define ResourceNeverExclusive       0x0010
#define ResourceReleaseByOtherThread 0x0020
#define ResourceOwnedExclusive       0x0080

NTKERNELAPI NTSTATUS NTAPI ExInitializeResourceLite(OUT PERESOURCE Resource);
NTKERNELAPI NTSTATUS NTAPI ExDeleteResourceLite(IN OUT PERESOURCE Resource);
NTKERNELAPI BOOLEAN NTAPI ExAcquireResourceExclusiveLite(IN OUT PERESOURCE Resource, IN BOOLEAN Wait);
NTKERNELAPI BOOLEAN NTAPI ExAcquireResourceSharedLite(IN OUT PERESOURCE Resource, IN BOOLEAN Wait);
NTKERNELAPI BOOLEAN NTAPI ExTryToAcquireResourceExclusiveLite(IN OUT PERESOURCE Resource);
NTKERNELAPI VOID FASTCALL ExReleaseResourceLite(IN OUT PERESOURCE Resource);
NTKERNELAPI BOOLEAN NTAPI ExIsResourceAcquiredExclusiveLite(IN PERESOURCE Resource);
NTKERNELAPI ULONG NTAPI ExIsResourceAcquiredSharedLite(IN PERESOURCE Resource);
NTKERNELAPI ERESOURCE_THREAD NTAPI ExGetCurrentResourceThread(VOID);
NTKERNELAPI PVOID NTAPI ExEnterCriticalRegionAndAcquireResourceExclusive(IN OUT PERESOURCE Resource);
NTKERNELAPI PVOID NTAPI ExEnterCriticalRegionAndAcquireResourceShared(IN OUT PERESOURCE Resource);
NTKERNELAPI VOID FASTCALL ExReleaseResourceAndLeaveCriticalRegion(IN OUT PERESOURCE Resource);

/* APC regions: per thread, as the KTHREAD's KernelApcDisable and SpecialApcDisable count them. */
NTKERNELAPI VOID NTAPI KeEnterCriticalRegion(VOID);
NTKERNELAPI VOID NTAPI KeLeaveCriticalRegion(VOID);
NTKERNELAPI VOID NTAPI KeEnterGuardedRegion(VOID);
NTKERNELAPI VOID NTAPI KeLeaveGuardedRegion(VOID);
NTKERNELAPI BOOLEAN NTAPI KeAreApcsDisabled(VOID);
NTKERNELAPI BOOLEAN NTAPI KeAreAllApcsDisabled(VOID);

/* Fast mutexes without the IRQL change (the caller disabled APCs), spin locks at DISPATCH_LEVEL,
 * in-stack queued spin locks, IRQL. */
NTKERNELAPI VOID FASTCALL ExAcquireFastMutexUnsafe(IN OUT PFAST_MUTEX FastMutex);
NTKERNELAPI VOID FASTCALL ExReleaseFastMutexUnsafe(IN OUT PFAST_MUTEX FastMutex);
NTKERNELAPI BOOLEAN FASTCALL ExTryToAcquireFastMutex(IN OUT PFAST_MUTEX FastMutex);

typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next;
    PKSPIN_LOCK volatile Lock;
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

NTKERNELAPI VOID NTAPI KeAcquireSpinLockAtDpcLevel(IN OUT PKSPIN_LOCK SpinLock);
NTKERNELAPI VOID NTAPI KeReleaseSpinLockFromDpcLevel(IN OUT PKSPIN_LOCK SpinLock);
NTKERNELAPI KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(IN OUT PKSPIN_LOCK SpinLock);
NTKERNELAPI BOOLEAN FASTCALL KeTryToAcquireSpinLockAtDpcLevel(IN OUT PKSPIN_LOCK SpinLock);
NTKERNELAPI VOID FASTCALL KeAcquireInStackQueuedSpinLock(IN OUT PKSPIN_LOCK SpinLock,
    OUT PKLOCK_QUEUE_HANDLE LockHandle);
NTKERNELAPI VOID FASTCALL KeReleaseInStackQueuedSpinLock(IN PKLOCK_QUEUE_HANDLE LockHandle);
NTKERNELAPI VOID FASTCALL KeAcquireInStackQueuedSpinLockAtDpcLevel(IN OUT PKSPIN_LOCK SpinLock,
    OUT PKLOCK_QUEUE_HANDLE LockHandle);
NTKERNELAPI VOID FASTCALL KeReleaseInStackQueuedSpinLockFromDpcLevel(IN PKLOCK_QUEUE_HANDLE LockHandle);
NTHALAPI KIRQL FASTCALL KfRaiseIrql(IN KIRQL NewIrql);
NTHALAPI VOID NTAPI KeLowerIrql(IN KIRQL NewIrql);
NTKERNELAPI KIRQL NTAPI KeRaiseIrqlToDpcLevel(VOID);

#ifndef __CMHOOK_BINDGEN__
#define KeRaiseIrql(NewIrql, OldIrql) (*(OldIrql) = KfRaiseIrql(NewIrql))
#define ExInitializeResource ExInitializeResourceLite
#define ExDeleteResource ExDeleteResourceLite
#define ExIsResourceAcquiredLite ExIsResourceAcquiredSharedLite
#define ExIsResourceAcquiredShared ExIsResourceAcquiredSharedLite
#define ExIsResourceAcquired ExIsResourceAcquiredSharedLite
#define ExReleaseResource ExReleaseResourceLite
#define ExAcquireResourceExclusive ExAcquireResourceExclusiveLite

/* Interlocked singly linked lists (x64: 16-byte aligned; Header16's encoding: Depth and Sequence in
 * the first quadword, the first entry's address with HeaderType 1 in the second). cffi cannot
 * align a type, so these and the lookaside lists that hold them are C only; their layout is
 * compared with mingw-w64's in tests/harness/test_ex_pool_locks_time.py. */
typedef struct DECLSPEC_ALIGN(16) _SLIST_ENTRY {
    struct _SLIST_ENTRY *Next;
} SLIST_ENTRY, *PSLIST_ENTRY;

typedef union DECLSPEC_ALIGN(16) _SLIST_HEADER {
    struct {
        ULONGLONG Alignment;
        ULONGLONG Region;
    };
    struct {
        ULONGLONG Depth : 16;
        ULONGLONG Sequence : 48;
        ULONGLONG HeaderType : 1;
        ULONGLONG Init : 1;
        ULONGLONG Reserved : 2;
        ULONGLONG NextEntry : 60;
    } HeaderX64;
} SLIST_HEADER, *PSLIST_HEADER;

NTKERNELAPI USHORT NTAPI ExQueryDepthSList(IN PSLIST_HEADER SListHead);

/* Lookaside lists: blocks of one size and tag, cached up to Depth; each block is pool the
 * harness tracks (a block still cached when the driver unloads without deleting the list is a
 * leak, as on Windows). */
typedef struct _LOOKASIDE_LIST_EX *PLOOKASIDE_LIST_EX;
typedef PVOID NTAPI ALLOCATE_FUNCTION_EX(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag,
    IN OUT PLOOKASIDE_LIST_EX Lookaside);
typedef ALLOCATE_FUNCTION_EX *PALLOCATE_FUNCTION_EX;
typedef VOID NTAPI FREE_FUNCTION_EX(IN PVOID Buffer, IN OUT PLOOKASIDE_LIST_EX Lookaside);
typedef FREE_FUNCTION_EX *PFREE_FUNCTION_EX;

#define CMHOOK_GENERAL_LOOKASIDE_LAYOUT \
    union { \
        SLIST_HEADER ListHead; \
        SINGLE_LIST_ENTRY SingleListHead; \
    }; \
    USHORT Depth; \
    USHORT MaximumDepth; \
    ULONG TotalAllocates; \
    union { \
        ULONG AllocateMisses; \
        ULONG AllocateHits; \
    }; \
    ULONG TotalFrees; \
    union { \
        ULONG FreeMisses; \
        ULONG FreeHits; \
    }; \
    POOL_TYPE Type; \
    ULONG Tag; \
    ULONG Size; \
    union { \
        PALLOCATE_FUNCTION_EX AllocateEx; \
        PALLOCATE_FUNCTION Allocate; \
    }; \
    union { \
        PFREE_FUNCTION_EX FreeEx; \
        PFREE_FUNCTION Free; \
    }; \
    LIST_ENTRY ListEntry; \
    ULONG LastTotalAllocates; \
    union { \
        ULONG LastAllocateMisses; \
        ULONG LastAllocateHits; \
    }; \
    ULONG Future[2];

typedef struct DECLSPEC_CACHEALIGN _GENERAL_LOOKASIDE {
    CMHOOK_GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE, *PGENERAL_LOOKASIDE;

typedef struct _GENERAL_LOOKASIDE_POOL {
    CMHOOK_GENERAL_LOOKASIDE_LAYOUT
} GENERAL_LOOKASIDE_POOL, *PGENERAL_LOOKASIDE_POOL;

typedef struct _PAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} PAGED_LOOKASIDE_LIST, *PPAGED_LOOKASIDE_LIST;

typedef struct DECLSPEC_CACHEALIGN _NPAGED_LOOKASIDE_LIST {
    GENERAL_LOOKASIDE L;
} NPAGED_LOOKASIDE_LIST, *PNPAGED_LOOKASIDE_LIST;

typedef struct _LOOKASIDE_LIST_EX {
    GENERAL_LOOKASIDE_POOL L;
} LOOKASIDE_LIST_EX;

#define LOOKASIDE_MINIMUM_BLOCK_SIZE (RTL_SIZEOF_THROUGH_FIELD(SLIST_ENTRY, Next))

NTKERNELAPI VOID NTAPI ExInitializeNPagedLookasideList(OUT PNPAGED_LOOKASIDE_LIST Lookaside,
    IN PALLOCATE_FUNCTION Allocate OPTIONAL, IN PFREE_FUNCTION Free OPTIONAL, IN ULONG Flags, IN SIZE_T Size,
    IN ULONG Tag, IN USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeleteNPagedLookasideList(IN OUT PNPAGED_LOOKASIDE_LIST Lookaside);
NTKERNELAPI PVOID NTAPI ExAllocateFromNPagedLookasideList(IN OUT PNPAGED_LOOKASIDE_LIST Lookaside);
NTKERNELAPI VOID NTAPI ExFreeToNPagedLookasideList(IN OUT PNPAGED_LOOKASIDE_LIST Lookaside, IN PVOID Entry);
NTKERNELAPI VOID NTAPI ExInitializePagedLookasideList(OUT PPAGED_LOOKASIDE_LIST Lookaside,
    IN PALLOCATE_FUNCTION Allocate OPTIONAL, IN PFREE_FUNCTION Free OPTIONAL, IN ULONG Flags, IN SIZE_T Size,
    IN ULONG Tag, IN USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeletePagedLookasideList(IN OUT PPAGED_LOOKASIDE_LIST Lookaside);
NTKERNELAPI PVOID NTAPI ExAllocateFromPagedLookasideList(IN OUT PPAGED_LOOKASIDE_LIST Lookaside);
NTKERNELAPI VOID NTAPI ExFreeToPagedLookasideList(IN OUT PPAGED_LOOKASIDE_LIST Lookaside, IN PVOID Entry);

#if (NTDDI_VERSION >= NTDDI_VISTA)
#define EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL 0x00000001UL
#define EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE 0x00000002UL
#define EX_MAXIMUM_LOOKASIDE_DEPTH_BASE          256
#define EX_MAXIMUM_LOOKASIDE_DEPTH_LIMIT         1024
NTKERNELAPI NTSTATUS NTAPI ExInitializeLookasideListEx(OUT PLOOKASIDE_LIST_EX Lookaside,
    IN PALLOCATE_FUNCTION_EX Allocate OPTIONAL, IN PFREE_FUNCTION_EX Free OPTIONAL, IN POOL_TYPE PoolType,
    IN ULONG Flags, IN SIZE_T Size, IN ULONG Tag, IN USHORT Depth);
NTKERNELAPI VOID NTAPI ExDeleteLookasideListEx(IN OUT PLOOKASIDE_LIST_EX Lookaside);
NTKERNELAPI VOID NTAPI ExFlushLookasideListEx(IN OUT PLOOKASIDE_LIST_EX Lookaside);
NTKERNELAPI PVOID NTAPI ExAllocateFromLookasideListEx(IN OUT PLOOKASIDE_LIST_EX Lookaside);
NTKERNELAPI VOID NTAPI ExFreeToLookasideListEx(IN OUT PLOOKASIDE_LIST_EX Lookaside, IN PVOID Entry);
#endif

/* The driver runtime (Windows 8's NX pool opt-in: NonPagedPool allocations become NonPagedPoolNx). */
#define DrvRtPoolNxOptIn 0x00000001
NTKERNELAPI VOID NTAPI ExInitializeDriverRuntime(IN ULONG RuntimeFlags);

#if (NTDDI_VERSION >= NTDDI_WIN8)
NTKERNELAPI VOID NTAPI KeQuerySystemTimePrecise(OUT PLARGE_INTEGER CurrentTime);
#endif
#if (NTDDI_VERSION >= NTDDI_WINBLUE)
NTKERNELAPI ULONG64 NTAPI KeQueryInterruptTimePrecise(OUT PULONG64 QpcTimeStamp);
#endif

/* Push locks: one pointer-sized word, no owner, not recursive (Windows 10 1809's routines). */
typedef ULONG_PTR EX_PUSH_LOCK, *PEX_PUSH_LOCK;
#if (NTDDI_VERSION >= NTDDI_WIN10_RS5)
#define EX_DEFAULT_PUSH_LOCK_FLAGS 0
NTKERNELAPI VOID NTAPI ExInitializePushLock(OUT PEX_PUSH_LOCK PushLock);
NTKERNELAPI VOID FASTCALL ExAcquirePushLockExclusiveEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
NTKERNELAPI VOID FASTCALL ExAcquirePushLockSharedEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
NTKERNELAPI VOID FASTCALL ExReleasePushLockExclusiveEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
NTKERNELAPI VOID FASTCALL ExReleasePushLockSharedEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
NTKERNELAPI BOOLEAN FASTCALL ExTryAcquirePushLockExclusiveEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
NTKERNELAPI BOOLEAN FASTCALL ExTryAcquirePushLockSharedEx(IN OUT PEX_PUSH_LOCK PushLock, IN ULONG Flags);
#define ExAcquirePushLockExclusive(Lock) ExAcquirePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExAcquirePushLockShared(Lock) ExAcquirePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockExclusive(Lock) ExReleasePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockShared(Lock) ExReleasePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockExclusive(Lock) ExTryAcquirePushLockExclusiveEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockShared(Lock) ExTryAcquirePushLockSharedEx((Lock), EX_DEFAULT_PUSH_LOCK_FLAGS)
#endif

/* ExAllocatePool2 and ExAllocatePool3 (Windows 10 2004): POOL_FLAGS, zeroed unless
 * POOL_FLAG_UNINITIALIZED; a zero tag or invalid flags give NULL (or raise with
 * POOL_FLAG_RAISE_ON_FAILURE). Values from Microsoft's POOL_FLAGS page. */
#if (NTDDI_VERSION >= NTDDI_WIN10_VB)
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_REQUIRED_START    0x0000000000000001ULL
#define POOL_FLAG_USE_QUOTA         0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED     0x0000000000000002ULL
#define POOL_FLAG_SESSION           0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED     0x0000000000000008ULL
#define POOL_FLAG_RESERVED1         0x0000000000000010ULL
#define POOL_FLAG_RAISE_ON_FAILURE  0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED         0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED             0x0000000000000100ULL
#define POOL_FLAG_RESERVED2         0x0000000000000200ULL
#define POOL_FLAG_RESERVED3         0x0000000000000400ULL
#define POOL_FLAG_REQUIRED_END      0x0000000080000000ULL
#define POOL_FLAG_OPTIONAL_START    0x0000000100000000ULL
#define POOL_FLAG_SPECIAL_POOL      0x0000000100000000ULL
#define POOL_FLAG_OPTIONAL_END      0x8000000000000000ULL

typedef enum POOL_EXTENDED_PARAMETER_TYPE {
    PoolExtendedParameterInvalidType = 0,
    PoolExtendedParameterPriority,
    PoolExtendedParameterSecurePool,
    PoolExtendedParameterNumaNode,
    PoolExtendedParameterMax
} POOL_EXTENDED_PARAMETER_TYPE, *PPOOL_EXTENDED_PARAMETER_TYPE;

#define POOL_EXTENDED_PARAMETER_TYPE_BITS 8
#define POOL_EXTENDED_PARAMETER_REQUIRED_FIELD_BITS 1
#define POOL_EXTENDED_PARAMETER_RESERVED_BITS (64 - POOL_EXTENDED_PARAMETER_TYPE_BITS - \
                                               POOL_EXTENDED_PARAMETER_REQUIRED_FIELD_BITS)
#define POOL_EXTENDED_PARAMS_SECURE_POOL_FLAGS_NONE 0
typedef ULONG POOL_NODE_REQUIREMENT;

typedef struct _POOL_EXTENDED_PARAMETER {
    struct {
        ULONG64 Type : POOL_EXTENDED_PARAMETER_TYPE_BITS;
        ULONG64 Optional : POOL_EXTENDED_PARAMETER_REQUIRED_FIELD_BITS;
        ULONG64 Reserved : POOL_EXTENDED_PARAMETER_RESERVED_BITS;
    };
    union {
        ULONG64 Reserved2;
        PVOID Reserved3;
        EX_POOL_PRIORITY Priority;
        struct _POOL_EXTENDED_PARAMS_SECURE_POOL *SecurePoolParams;
        POOL_NODE_REQUIREMENT PreferredNode;
    };
} POOL_EXTENDED_PARAMETER, *PPOOL_EXTENDED_PARAMETER;
typedef const POOL_EXTENDED_PARAMETER *PCPOOL_EXTENDED_PARAMETER;

NTKERNELAPI PVOID NTAPI ExAllocatePool2(IN POOL_FLAGS Flags, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePool3(IN POOL_FLAGS Flags, IN SIZE_T NumberOfBytes, IN ULONG Tag,
    IN PCPOOL_EXTENDED_PARAMETER ExtendedParameters OPTIONAL, IN ULONG ExtendedParametersCount);
#endif
#endif /* __CMHOOK_BINDGEN__ */
/* ------------------------- end of Ex pool, locks, time ------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* _CMHOOK_WDM_H_ */
