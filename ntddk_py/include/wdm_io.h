/*
 * wdm_io.h - the I/O manager's part of cmhook's wdm.h: device objects, IRPs and their stack
 * locations, file objects, MDLs, I/O control codes, and the Io/Mm routines a driver uses to
 * make a device and serve the requests a user-mode program sends it (the channel a registry
 * monitor reports through). wdm.h includes it where the WDK's wdm.h declares these; include
 * <wdm.h> or <ntddk.h>, not this file.
 *
 * Every struct has the Windows x64 layout and is in the ABI tests against mingw-w64's wdm.h.
 * The I/O manager's own work (building IRPs for each transfer type, completing them, the
 * device and symbolic-link namespace) is harness/devices.py; what differs from Windows:
 * - An IRP has one stack location (StackSize 1): there is no IoCallDriver, so no completion
 *   routines run and IoGetNextIrpStackLocation is not provided.
 * - MmGetSystemAddressForMdlSafe gives MappedSystemVa for an MDL the I/O manager built (direct
 *   I/O: the caller's buffer, marked mapped) or one MmBuildMdlForNonPagedPool described; any
 *   other MDL has no locked pages (MmProbeAndLockPages is not in the harness) and gets NULL,
 *   what the routine returns when it cannot map.
 * - Tail.Overlay.Thread is NULL (the harness has no thread objects).
 */
#ifndef _CMHOOK_WDM_H_
#error "include <wdm.h> or <ntddk.h>: wdm_io.h is a part of wdm.h"
#endif
#ifndef _CMHOOK_WDM_IO_H_
#define _CMHOOK_WDM_IO_H_

/* POINTER_ALIGNMENT: on x64 the WDK aligns some IO_STACK_LOCATION parameters to 8. The
 * bindings' reader has no alignment attribute, so for it the padding is spelled out as
 * members (_CMHOOK_ALIGN_PAD) that give the same offsets. */
#ifdef __CMHOOK_BINDGEN__
#define POINTER_ALIGNMENT
#define _CMHOOK_ALIGN_PAD(Name) ULONG Name;
#else
#define POINTER_ALIGNMENT __attribute__((aligned(8)))
#define _CMHOOK_ALIGN_PAD(Name)
#endif

typedef ULONG DEVICE_TYPE;

/* Objects the I/O structs only point to. */
typedef struct _IO_TIMER *PIO_TIMER;
typedef struct _VPB *PVPB;
typedef struct _SECTION_OBJECT_POINTERS *PSECTION_OBJECT_POINTERS;
typedef struct _IO_COMPLETION_CONTEXT *PIO_COMPLETION_CONTEXT;
/* PACCESS_STATE: declared in ntddk.h (processes), which includes this file after it. */
typedef struct _SECURITY_QUALITY_OF_SERVICE *PSECURITY_QUALITY_OF_SERVICE;
struct _DEVOBJ_EXTENSION;
struct _KAPC;

/* ------------------------------------------------------------------------
 * DPCs, APCs and device queues: what DEVICE_OBJECT and IRP hold by value.
 * ------------------------------------------------------------------------ */
typedef struct _KDPC {
    UCHAR Type;
    UCHAR Importance;
    volatile USHORT Number;
    LIST_ENTRY DpcListEntry;
    VOID (NTAPI *DeferredRoutine)(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                                  PVOID SystemArgument2); /* a PKDEFERRED_ROUTINE */
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    volatile PVOID DpcData;
} KDPC, *PKDPC, *PRKDPC;

typedef VOID NTAPI KNORMAL_ROUTINE(IN PVOID NormalContext OPTIONAL, IN PVOID SystemArgument1 OPTIONAL,
    IN PVOID SystemArgument2 OPTIONAL);
typedef KNORMAL_ROUTINE *PKNORMAL_ROUTINE;
typedef VOID NTAPI KKERNEL_ROUTINE(IN struct _KAPC *Apc, IN OUT PKNORMAL_ROUTINE *NormalRoutine,
    IN OUT PVOID *NormalContext, IN OUT PVOID *SystemArgument1, IN OUT PVOID *SystemArgument2);
typedef KKERNEL_ROUTINE *PKKERNEL_ROUTINE;
typedef VOID NTAPI KRUNDOWN_ROUTINE(IN struct _KAPC *Apc);
typedef KRUNDOWN_ROUTINE *PKRUNDOWN_ROUTINE;

typedef struct _KAPC {
    UCHAR Type;
    UCHAR SpareByte0;
    UCHAR Size;
    UCHAR SpareByte1;
    ULONG SpareLong0;
    PKTHREAD Thread;
    LIST_ENTRY ApcListEntry;
    PKKERNEL_ROUTINE KernelRoutine;
    PKRUNDOWN_ROUTINE RundownRoutine;
    PKNORMAL_ROUTINE NormalRoutine;
    PVOID NormalContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    CCHAR ApcStateIndex;
    KPROCESSOR_MODE ApcMode;
    BOOLEAN Inserted;
} KAPC, *PKAPC, *PRKAPC;

typedef struct _KDEVICE_QUEUE_ENTRY {
    LIST_ENTRY DeviceListEntry;
    ULONG SortKey;
    BOOLEAN Inserted;
} KDEVICE_QUEUE_ENTRY, *PKDEVICE_QUEUE_ENTRY, *PRKDEVICE_QUEUE_ENTRY;

/* On x64 Busy shares its 8 bytes with a 56-bit Hint; the layout is the same with Busy alone. */
typedef struct _KDEVICE_QUEUE {
    CSHORT Type;
    CSHORT Size;
    LIST_ENTRY DeviceListHead;
    KSPIN_LOCK Lock;
    BOOLEAN Busy;
} KDEVICE_QUEUE, *PKDEVICE_QUEUE, *PRKDEVICE_QUEUE;

typedef enum _IO_ALLOCATION_ACTION {
    KeepObject = 1,
    DeallocateObject,
    DeallocateObjectKeepRegisters
} IO_ALLOCATION_ACTION, *PIO_ALLOCATION_ACTION;

typedef IO_ALLOCATION_ACTION NTAPI DRIVER_CONTROL(IN struct _DEVICE_OBJECT *DeviceObject, IN struct _IRP *Irp,
    IN PVOID MapRegisterBase, IN PVOID Context);
typedef DRIVER_CONTROL *PDRIVER_CONTROL;

typedef struct _WAIT_CONTEXT_BLOCK {
    KDEVICE_QUEUE_ENTRY WaitQueueEntry;
    PDRIVER_CONTROL DeviceRoutine;
    PVOID DeviceContext;
    ULONG NumberOfMapRegisters;
    PVOID DeviceObject;
    PVOID CurrentIrp;
    PKDPC BufferChainingDpc;
} WAIT_CONTEXT_BLOCK, *PWAIT_CONTEXT_BLOCK;

/* ------------------------------------------------------------------------
 * Device objects. IoCreateDevice makes one (its DeviceExtension follows it), links it at the
 * head of DriverObject->DeviceObject and sets DO_DEVICE_INITIALIZING, which the I/O manager
 * clears when DriverEntry returns (a driver clears it itself for a device made later).
 * ------------------------------------------------------------------------ */
typedef struct _DEVICE_OBJECT {
    CSHORT Type;
    USHORT Size;
    LONG ReferenceCount;
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice;
    struct _IRP *CurrentIrp;
    PIO_TIMER Timer;
    ULONG Flags;
    ULONG Characteristics;
    volatile PVPB Vpb;
    PVOID DeviceExtension;
    DEVICE_TYPE DeviceType;
    CCHAR StackSize;
    union {
        LIST_ENTRY ListEntry;
        WAIT_CONTEXT_BLOCK Wcb;
    } Queue;
    ULONG AlignmentRequirement;
    KDEVICE_QUEUE DeviceQueue;
    KDPC Dpc;
    ULONG ActiveThreadCount;
    PSECURITY_DESCRIPTOR SecurityDescriptor;
    KEVENT DeviceLock;
    USHORT SectorSize;
    USHORT Spare1;
    struct _DEVOBJ_EXTENSION *DeviceObjectExtension;
    PVOID Reserved;
} DEVICE_OBJECT, *PDEVICE_OBJECT;

/* The Type of the I/O manager's objects. */
#define IO_TYPE_DEVICE 3
#define IO_TYPE_DRIVER 4
#define IO_TYPE_FILE   5
#define IO_TYPE_IRP    6

/* DEVICE_OBJECT.Flags. */
#define DO_VERIFY_VOLUME        0x00000002
#define DO_BUFFERED_IO          0x00000004
#define DO_EXCLUSIVE            0x00000008
#define DO_DIRECT_IO            0x00000010
#define DO_MAP_IO_BUFFER        0x00000020
#define DO_DEVICE_INITIALIZING  0x00000080
#define DO_SHUTDOWN_REGISTERED  0x00000800
#define DO_BUS_ENUMERATED_DEVICE 0x00001000
#define DO_POWER_PAGABLE        0x00002000
#define DO_POWER_INRUSH         0x00004000

/* DEVICE_OBJECT.Characteristics. */
#define FILE_REMOVABLE_MEDIA        0x00000001
#define FILE_READ_ONLY_DEVICE       0x00000002
#define FILE_FLOPPY_DISKETTE        0x00000004
#define FILE_WRITE_ONCE_MEDIA       0x00000008
#define FILE_REMOTE_DEVICE          0x00000010
#define FILE_DEVICE_IS_MOUNTED      0x00000020
#define FILE_VIRTUAL_VOLUME         0x00000040
#define FILE_AUTOGENERATED_DEVICE_NAME 0x00000080
#define FILE_DEVICE_SECURE_OPEN     0x00000100

/* Device types (DEVICE_OBJECT.DeviceType, a CTL_CODE's high word); 0x8000 and up are a vendor's. */
#define FILE_DEVICE_BEEP            0x00000001
#define FILE_DEVICE_CD_ROM          0x00000002
#define FILE_DEVICE_DISK            0x00000007
#define FILE_DEVICE_FILE_SYSTEM     0x00000009
#define FILE_DEVICE_NETWORK         0x00000012
#define FILE_DEVICE_NULL            0x00000015
#define FILE_DEVICE_UNKNOWN         0x00000022

/* ------------------------------------------------------------------------
 * I/O control codes: CTL_CODE(DeviceType, Function, Method, Access). The method tells the
 * I/O manager how it hands the buffers to the driver (see IO_STACK_LOCATION); the access is
 * what the caller's handle must have been granted.
 * ------------------------------------------------------------------------ */
#define CTL_CODE(DeviceType, Function, Method, Access) \
    (((DeviceType) << 16) | ((Access) << 14) | ((Function) << 2) | (Method))
#define DEVICE_TYPE_FROM_CTL_CODE(ctl) (((ULONG)((ctl) & 0xffff0000)) >> 16)
#define METHOD_FROM_CTL_CODE(ctl) ((ULONG)((ctl) & 3))
#define METHOD_BUFFERED   0
#define METHOD_IN_DIRECT  1
#define METHOD_OUT_DIRECT 2
#define METHOD_NEITHER    3
#define METHOD_DIRECT_TO_HARDWARE   METHOD_IN_DIRECT
#define METHOD_DIRECT_FROM_HARDWARE METHOD_OUT_DIRECT
#define FILE_ANY_ACCESS     0x00000000
#define FILE_SPECIAL_ACCESS FILE_ANY_ACCESS
#define FILE_READ_ACCESS    0x00000001
#define FILE_WRITE_ACCESS   0x00000002

/* File access rights (a device handle's granted access), and create dispositions and options. */
#define FILE_READ_DATA        0x00000001
#define FILE_LIST_DIRECTORY   0x00000001
#define FILE_WRITE_DATA       0x00000002
#define FILE_ADD_FILE         0x00000002
#define FILE_APPEND_DATA      0x00000004
#define FILE_READ_EA          0x00000008
#define FILE_WRITE_EA         0x00000010
#define FILE_EXECUTE          0x00000020
#define FILE_READ_ATTRIBUTES  0x00000080
#define FILE_WRITE_ATTRIBUTES 0x00000100
#define FILE_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF)
#define FILE_GENERIC_READ \
    (STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE)
#define FILE_GENERIC_WRITE \
    (STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE)
#define FILE_GENERIC_EXECUTE \
    (STANDARD_RIGHTS_EXECUTE | FILE_READ_ATTRIBUTES | FILE_EXECUTE | SYNCHRONIZE)
#define FILE_SHARE_READ   0x00000001
#define FILE_SHARE_WRITE  0x00000002
#define FILE_SHARE_DELETE 0x00000004
#define FILE_SUPERSEDE    0x00000000
#define FILE_OPEN         0x00000001
#define FILE_CREATE       0x00000002
#define FILE_OPEN_IF      0x00000003
#define FILE_OVERWRITE    0x00000004
#define FILE_OVERWRITE_IF 0x00000005

/* ------------------------------------------------------------------------
 * I/O status, MDLs, file objects.
 * ------------------------------------------------------------------------ */
typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

typedef VOID NTAPI IO_APC_ROUTINE(IN PVOID ApcContext, IN PIO_STATUS_BLOCK IoStatusBlock, IN ULONG Reserved);
typedef IO_APC_ROUTINE *PIO_APC_ROUTINE;

/* A memory descriptor list: ByteCount bytes from StartVa + ByteOffset, followed by the page
 * frame numbers (none are kept here). */
typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    PEPROCESS Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL, *PMDL;
typedef MDL *PMDLX;
typedef ULONG_PTR PFN_NUMBER, *PPFN_NUMBER;

#define MDL_MAPPED_TO_SYSTEM_VA     0x0001
#define MDL_PAGES_LOCKED            0x0002
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004
#define MDL_ALLOCATED_FIXED_SIZE    0x0008
#define MDL_PARTIAL                 0x0010
#define MDL_WRITE_OPERATION         0x0080
#define MDL_IO_SPACE                0x0800

typedef enum _MM_PAGE_PRIORITY {
    LowPagePriority,
    NormalPagePriority = 16,
    HighPagePriority = 32
} MM_PAGE_PRIORITY;

typedef struct _FILE_OBJECT {
    CSHORT Type;
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PVPB Vpb;
    PVOID FsContext;
    PVOID FsContext2;
    PSECTION_OBJECT_POINTERS SectionObjectPointer;
    PVOID PrivateCacheMap;
    NTSTATUS FinalStatus;
    struct _FILE_OBJECT *RelatedFileObject;
    BOOLEAN LockOperation;
    BOOLEAN DeletePending;
    BOOLEAN ReadAccess;
    BOOLEAN WriteAccess;
    BOOLEAN DeleteAccess;
    BOOLEAN SharedRead;
    BOOLEAN SharedWrite;
    BOOLEAN SharedDelete;
    ULONG Flags;
    UNICODE_STRING FileName;
    LARGE_INTEGER CurrentByteOffset;
    volatile ULONG Waiters;
    volatile ULONG Busy;
    PVOID LastLock;
    KEVENT Lock;
    KEVENT Event;
    volatile PIO_COMPLETION_CONTEXT CompletionContext;
    KSPIN_LOCK IrpListLock;
    LIST_ENTRY IrpList;
    volatile PVOID FileObjectExtension;
} FILE_OBJECT, *PFILE_OBJECT;

/* ------------------------------------------------------------------------
 * IRPs. The I/O manager builds one per request with its stack location right after it;
 * Tail.Overlay.CurrentStackLocation points there (IoGetCurrentIrpStackLocation).
 * ------------------------------------------------------------------------ */
typedef struct _IO_SECURITY_CONTEXT {
    PSECURITY_QUALITY_OF_SERVICE SecurityQos;
    PACCESS_STATE AccessState;
    ACCESS_MASK DesiredAccess;
    ULONG FullCreateOptions;
} IO_SECURITY_CONTEXT, *PIO_SECURITY_CONTEXT;

typedef struct _IRP {
    CSHORT Type;
    USHORT Size;
    struct _MDL *MdlAddress;
    ULONG Flags;
    union {
        struct _IRP *MasterIrp;
        volatile LONG IrpCount;
        PVOID SystemBuffer;
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned;
    CHAR StackCount;
    CHAR CurrentLocation;
    BOOLEAN Cancel;
    KIRQL CancelIrql;
    CCHAR ApcEnvironment;
    UCHAR AllocationFlags;
    PIO_STATUS_BLOCK UserIosb;
    PKEVENT UserEvent;
    union {
        struct {
            union {
                PIO_APC_ROUTINE UserApcRoutine;
                PVOID IssuingProcess;
            };
            PVOID UserApcContext;
        } AsynchronousParameters;
        LARGE_INTEGER AllocationSize;
    } Overlay;
    VOID (NTAPI *volatile CancelRoutine)(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp); /* PDRIVER_CANCEL */
    PVOID UserBuffer;
    union {
        struct {
            union {
                KDEVICE_QUEUE_ENTRY DeviceQueueEntry;
                struct {
                    PVOID DriverContext[4];
                };
            };
            PETHREAD Thread;
            PCHAR AuxiliaryBuffer;
            struct {
                LIST_ENTRY ListEntry;
                union {
                    struct _IO_STACK_LOCATION *CurrentStackLocation;
                    ULONG PacketType;
                };
            };
            struct _FILE_OBJECT *OriginalFileObject;
        } Overlay;
        KAPC Apc;
        PVOID CompletionKey;
    } Tail;
} IRP, *PIRP;

/* IRP.Flags the I/O manager sets. */
#define IRP_NOCACHE            0x00000001
#define IRP_PAGING_IO          0x00000002
#define IRP_MOUNT_COMPLETION   0x00000002
#define IRP_SYNCHRONOUS_API    0x00000004
#define IRP_ASSOCIATED_IRP     0x00000008
#define IRP_BUFFERED_IO        0x00000010
#define IRP_DEALLOCATE_BUFFER  0x00000020
#define IRP_INPUT_OPERATION    0x00000040
#define IRP_CREATE_OPERATION   0x00000080
#define IRP_READ_OPERATION     0x00000100
#define IRP_WRITE_OPERATION    0x00000200
#define IRP_CLOSE_OPERATION    0x00000400
#define IRP_DEFER_IO_COMPLETION 0x00000800

/* The parameters of each major function; the I/O manager fills those of the request's.
 * DeviceIoControl by method (METHOD_FROM_CTL_CODE(IoControlCode)):
 * - METHOD_BUFFERED: Irp->AssociatedIrp.SystemBuffer, of max(InputBufferLength,
 *   OutputBufferLength) bytes, holds the input; the driver writes its output there and sets
 *   IoStatus.Information; the I/O manager copies that many bytes back to the caller.
 * - METHOD_IN_DIRECT, METHOD_OUT_DIRECT: the input in SystemBuffer, the output buffer described
 *   by Irp->MdlAddress (MmGetSystemAddressForMdlSafe).
 * - METHOD_NEITHER: Type3InputBuffer and Irp->UserBuffer are the caller's own pointers: a
 *   user-mode caller's must be probed (ProbeForRead/ProbeForWrite, inside __try). */
typedef struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;
    union {
        struct {
            PIO_SECURITY_CONTEXT SecurityContext;
            ULONG Options;
            _CMHOOK_ALIGN_PAD(_CmhookPad0)
            USHORT POINTER_ALIGNMENT FileAttributes;
            USHORT ShareAccess;
            _CMHOOK_ALIGN_PAD(_CmhookPad1)
            ULONG POINTER_ALIGNMENT EaLength;
        } Create;
        struct {
            ULONG Length;
            _CMHOOK_ALIGN_PAD(_CmhookPad0)
            ULONG POINTER_ALIGNMENT Key;
            ULONG Flags;
            LARGE_INTEGER ByteOffset;
        } Read;
        struct {
            ULONG Length;
            _CMHOOK_ALIGN_PAD(_CmhookPad0)
            ULONG POINTER_ALIGNMENT Key;
            ULONG Flags;
            LARGE_INTEGER ByteOffset;
        } Write;
        struct {
            ULONG OutputBufferLength;
            _CMHOOK_ALIGN_PAD(_CmhookPad0)
            ULONG POINTER_ALIGNMENT InputBufferLength;
            _CMHOOK_ALIGN_PAD(_CmhookPad1)
            ULONG POINTER_ALIGNMENT IoControlCode;
            PVOID Type3InputBuffer;
        } DeviceIoControl;
        struct {
            PVOID Argument1;
            PVOID Argument2;
            PVOID Argument3;
            PVOID Argument4;
        } Others;
    } Parameters;
    PDEVICE_OBJECT DeviceObject;
    PFILE_OBJECT FileObject;
    NTSTATUS (NTAPI *CompletionRoutine)(PDEVICE_OBJECT DeviceObject, struct _IRP *Irp,
                                        PVOID Context); /* PIO_COMPLETION_ROUTINE */
    PVOID Context;
} IO_STACK_LOCATION, *PIO_STACK_LOCATION;

/* IO_STACK_LOCATION.Control. */
#define SL_PENDING_RETURNED 0x01
#define SL_ERROR_RETURNED   0x02
#define SL_INVOKE_ON_CANCEL 0x20
#define SL_INVOKE_ON_SUCCESS 0x40
#define SL_INVOKE_ON_ERROR  0x80

/* What the I/O manager answers and stops with (ntstatus.h and bugcodes.h on Windows): an open of a
 * device still initializing or being deleted; an IRP completed twice. */
#define STATUS_NO_SUCH_DEVICE           ((NTSTATUS)0xC000000E)
#define MULTIPLE_IRP_COMPLETE_REQUESTS  ((ULONG)0x00000044)

/* The priority boost IoCompleteRequest gives the waiting thread. */
#define IO_NO_INCREMENT         0
#define IO_DISK_INCREMENT       1
#define IO_KEYBOARD_INCREMENT   6
#define IO_NETWORK_INCREMENT    2
#define IO_SOUND_INCREMENT      8
#define EVENT_INCREMENT         1

/* ------------------------------------------------------------------------
 * Routines. IoCreateDevice: DeviceName NULL makes an unnamed device; a named one lives under
 * \Device (another directory: STATUS_OBJECT_PATH_NOT_FOUND), a name taken is
 * STATUS_OBJECT_NAME_COLLISION. IoCreateSymbolicLink: \DosDevices\X and \??\X are the same
 * name, a taken one is STATUS_OBJECT_NAME_COLLISION; the target is resolved at each open.
 * IoDeleteDevice unlinks the device from its driver. IofCompleteRequest (IoCompleteRequest)
 * ends a request; completing one twice is bug check 0x44, MULTIPLE_IRP_COMPLETE_REQUESTS.
 * ------------------------------------------------------------------------ */
#define FASTCALL

NTKERNELAPI NTSTATUS NTAPI IoCreateDevice(IN PDRIVER_OBJECT DriverObject, IN ULONG DeviceExtensionSize,
    IN PUNICODE_STRING DeviceName OPTIONAL, IN DEVICE_TYPE DeviceType, IN ULONG DeviceCharacteristics,
    IN BOOLEAN Exclusive, OUT PDEVICE_OBJECT *DeviceObject);
NTKERNELAPI VOID NTAPI IoDeleteDevice(IN PDEVICE_OBJECT DeviceObject);
NTKERNELAPI NTSTATUS NTAPI IoCreateSymbolicLink(IN PUNICODE_STRING SymbolicLinkName, IN PUNICODE_STRING DeviceName);
NTKERNELAPI NTSTATUS NTAPI IoDeleteSymbolicLink(IN PUNICODE_STRING SymbolicLinkName);
NTKERNELAPI VOID FASTCALL IofCompleteRequest(IN PIRP Irp, IN CCHAR PriorityBoost);
NTKERNELAPI BOOLEAN NTAPI IoIsWdmVersionAvailable(IN UCHAR MajorVersion, IN UCHAR MinorVersion);
NTKERNELAPI PMDL NTAPI IoAllocateMdl(IN PVOID VirtualAddress OPTIONAL, IN ULONG Length, IN BOOLEAN SecondaryBuffer,
    IN BOOLEAN ChargeQuota, IN OUT PIRP Irp OPTIONAL);
NTKERNELAPI VOID NTAPI IoFreeMdl(IN PMDL Mdl);
NTKERNELAPI VOID NTAPI MmBuildMdlForNonPagedPool(IN OUT PMDL MemoryDescriptorList);

#define IoCompleteRequest(Irp, PriorityBoost) IofCompleteRequest((Irp), (PriorityBoost))

#ifndef __CMHOOK_BINDGEN__
FORCEINLINE PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(IN PIRP Irp)
{
    return Irp->Tail.Overlay.CurrentStackLocation;
}

/* Before a dispatch routine returns STATUS_PENDING. */
FORCEINLINE VOID IoMarkIrpPending(IN OUT PIRP Irp)
{
    IoGetCurrentIrpStackLocation(Irp)->Control |= SL_PENDING_RETURNED;
}

#define IoSizeOfIrp(StackSize) ((USHORT)(sizeof(IRP) + ((StackSize) * sizeof(IO_STACK_LOCATION))))

#define MmGetMdlVirtualAddress(Mdl) ((PVOID)((PCHAR)((Mdl)->StartVa) + (Mdl)->ByteOffset))
#define MmGetMdlByteCount(Mdl) ((Mdl)->ByteCount)
#define MmGetMdlByteOffset(Mdl) ((Mdl)->ByteOffset)
#define MmGetMdlPfnArray(Mdl) ((PPFN_NUMBER)((Mdl) + 1))
#define MmInitializeMdl(Mdl, BaseVa, Length) \
    do { \
        (Mdl)->Next = NULL; \
        (Mdl)->Size = (CSHORT)(sizeof(MDL) + sizeof(PFN_NUMBER) * ADDRESS_AND_SIZE_TO_SPAN_PAGES((BaseVa), (Length))); \
        (Mdl)->MdlFlags = 0; \
        (Mdl)->StartVa = PAGE_ALIGN(BaseVa); \
        (Mdl)->ByteOffset = BYTE_OFFSET(BaseVa); \
        (Mdl)->ByteCount = (ULONG)(Length); \
    } while (0)

/* The system address of an MDL's buffer: see the top of this file for which MDLs have one. */
FORCEINLINE PVOID MmGetSystemAddressForMdlSafe(IN PMDL Mdl, IN ULONG Priority)
{
    (void)Priority;
    if (Mdl->MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL))
        return Mdl->MappedSystemVa;
    return NULL;
}

_Static_assert(sizeof(IRP) == 0xD0 && sizeof(IO_STACK_LOCATION) == 0x48 && sizeof(DEVICE_OBJECT) == 0x148,
               "Windows x64 sizes");
_Static_assert(FIELD_OFFSET(IO_STACK_LOCATION, Parameters.DeviceIoControl.InputBufferLength) == 0x10 &&
               FIELD_OFFSET(IO_STACK_LOCATION, Parameters.DeviceIoControl.IoControlCode) == 0x18 &&
               FIELD_OFFSET(IO_STACK_LOCATION, Parameters.DeviceIoControl.Type3InputBuffer) == 0x20 &&
               FIELD_OFFSET(IO_STACK_LOCATION, Parameters.Read.ByteOffset) == 0x18 &&
               FIELD_OFFSET(IO_STACK_LOCATION, Parameters.Create.EaLength) == 0x20,
               "Windows x64 IO_STACK_LOCATION parameters");
#endif /* __CMHOOK_BINDGEN__ */

#endif /* _CMHOOK_WDM_IO_H_ */
