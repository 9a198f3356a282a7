/*
 * fltKernel.h - cmhook's fltKernel.h: the filter manager's types a registry filter touches
 * when it is also a minifilter (its PFLT_FILTER, the port it reports through, its operation
 * callbacks' signatures and status codes). It includes ntifs.h, as the WDK's does.
 *
 * The filter manager's objects are opaque here, as they are in the WDK; its routines
 * (FltRegisterFilter, FltCreateCommunicationPort, FltSendMessage ...) are not in the harness
 * and are not declared. Values are Windows' (Microsoft's documentation; tests pin them).
 */
#ifndef __FLTKERNEL__
#define __FLTKERNEL__

#include "ntifs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FLTAPI NTAPI
#define FLT_MGR_BASELINE 1
#define FLT_MGR_LONGHORN (NTDDI_VERSION >= NTDDI_VISTA)
#define FLT_MGR_WIN7 (NTDDI_VERSION >= NTDDI_WIN7)
#define FLT_MGR_WIN8 (NTDDI_VERSION >= NTDDI_WIN8)

/* Annotations of the filter manager's prototypes. */
#define _Flt_CompletionContext_Outptr_
#define _Flt_ConnectionCookie_Outptr_

typedef struct _FLT_FILTER *PFLT_FILTER;
typedef struct _FLT_VOLUME *PFLT_VOLUME;
typedef struct _FLT_INSTANCE *PFLT_INSTANCE;
typedef struct _FLT_PORT *PFLT_PORT;
typedef PVOID PFLT_CONTEXT;
typedef struct _FLT_CALLBACK_DATA FLT_CALLBACK_DATA, *PFLT_CALLBACK_DATA;
typedef struct _FLT_RELATED_OBJECTS FLT_RELATED_OBJECTS, *PFLT_RELATED_OBJECTS;
typedef const struct _FLT_RELATED_OBJECTS *PCFLT_RELATED_OBJECTS;

typedef enum _FLT_PREOP_CALLBACK_STATUS {
    FLT_PREOP_SUCCESS_WITH_CALLBACK,
    FLT_PREOP_SUCCESS_NO_CALLBACK,
    FLT_PREOP_PENDING,
    FLT_PREOP_DISALLOW_FASTIO,
    FLT_PREOP_COMPLETE,
    FLT_PREOP_SYNCHRONIZE
#if FLT_MGR_WIN8
    ,
    FLT_PREOP_DISALLOW_FSFILTER_IO
#endif
} FLT_PREOP_CALLBACK_STATUS, *PFLT_PREOP_CALLBACK_STATUS;

typedef enum _FLT_POSTOP_CALLBACK_STATUS {
    FLT_POSTOP_FINISHED_PROCESSING,
    FLT_POSTOP_MORE_PROCESSING_REQUIRED
#if FLT_MGR_WIN8
    ,
    FLT_POSTOP_DISALLOW_FSFILTER_IO
#endif
} FLT_POSTOP_CALLBACK_STATUS, *PFLT_POSTOP_CALLBACK_STATUS;

typedef ULONG FLT_POST_OPERATION_FLAGS;
#define FLTFL_POST_OPERATION_DRAINING 0x00000001

typedef ULONG FLT_FILTER_UNLOAD_FLAGS, *PFLT_FILTER_UNLOAD_FLAGS;
#define FLTFL_FILTER_UNLOAD_MANDATORY 0x00000001

typedef FLT_PREOP_CALLBACK_STATUS (FLTAPI *PFLT_PRE_OPERATION_CALLBACK)(IN OUT PFLT_CALLBACK_DATA Data,
    IN PCFLT_RELATED_OBJECTS FltObjects, OUT PVOID *CompletionContext);
typedef FLT_POSTOP_CALLBACK_STATUS (FLTAPI *PFLT_POST_OPERATION_CALLBACK)(IN OUT PFLT_CALLBACK_DATA Data,
    IN PCFLT_RELATED_OBJECTS FltObjects, IN PVOID CompletionContext OPTIONAL, IN FLT_POST_OPERATION_FLAGS Flags);
typedef NTSTATUS (FLTAPI *PFLT_FILTER_UNLOAD_CALLBACK)(IN FLT_FILTER_UNLOAD_FLAGS Flags);

/* The communication port's callbacks: a user-mode client connects, disconnects, sends. */
typedef NTSTATUS (FLTAPI *PFLT_CONNECT_NOTIFY)(IN PFLT_PORT ClientPort, IN PVOID ServerPortCookie,
    IN PVOID ConnectionContext, IN ULONG SizeOfContext, OUT PVOID *ConnectionPortCookie);
typedef VOID (FLTAPI *PFLT_DISCONNECT_NOTIFY)(IN PVOID ConnectionCookie OPTIONAL);
typedef NTSTATUS (FLTAPI *PFLT_MESSAGE_NOTIFY)(IN PVOID PortCookie OPTIONAL, IN PVOID InputBuffer OPTIONAL,
    IN ULONG InputBufferLength, OUT PVOID OutputBuffer OPTIONAL, IN ULONG OutputBufferLength,
    OUT PULONG ReturnOutputBufferLength);

#ifdef __cplusplus
}
#endif

#endif /* __FLTKERNEL__ */
