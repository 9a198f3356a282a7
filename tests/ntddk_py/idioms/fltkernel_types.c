/* A registry filter that is also a minifilter: its filter and port handles, operation
 * callbacks with the filter manager's signatures, the status codes they return. */
#include <fltKernel.h>

static PFLT_FILTER Filter;
static PFLT_PORT ServerPort;
static PFLT_PORT ClientPort;

static FLT_PREOP_CALLBACK_STATUS FLTAPI PreCreate(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects,
                                                  _Flt_CompletionContext_Outptr_ PVOID *CompletionContext)
{
    UNREFERENCED_PARAMETER(Data);
    UNREFERENCED_PARAMETER(FltObjects);
    *CompletionContext = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS FLTAPI PostCreate(PFLT_CALLBACK_DATA Data, PCFLT_RELATED_OBJECTS FltObjects,
                                                    PVOID CompletionContext, FLT_POST_OPERATION_FLAGS Flags)
{
    UNREFERENCED_PARAMETER(Data);
    UNREFERENCED_PARAMETER(FltObjects);
    UNREFERENCED_PARAMETER(CompletionContext);
    return (Flags & FLTFL_POST_OPERATION_DRAINING) ? FLT_POSTOP_FINISHED_PROCESSING : FLT_POSTOP_FINISHED_PROCESSING;
}

static NTSTATUS FLTAPI FilterUnload(FLT_FILTER_UNLOAD_FLAGS Flags)
{
    return (Flags & FLTFL_FILTER_UNLOAD_MANDATORY) ? STATUS_SUCCESS : STATUS_SUCCESS;
}

static NTSTATUS FLTAPI PortConnect(PFLT_PORT Client, PVOID ServerPortCookie, PVOID ConnectionContext,
                                   ULONG SizeOfContext, _Flt_ConnectionCookie_Outptr_ PVOID *ConnectionCookie)
{
    UNREFERENCED_PARAMETER(ServerPortCookie);
    UNREFERENCED_PARAMETER(ConnectionContext);
    UNREFERENCED_PARAMETER(SizeOfContext);
    ClientPort = Client;
    *ConnectionCookie = NULL;
    return STATUS_SUCCESS;
}

static VOID FLTAPI PortDisconnect(PVOID ConnectionCookie)
{
    UNREFERENCED_PARAMETER(ConnectionCookie);
    ClientPort = NULL;
}

static const PFLT_PRE_OPERATION_CALLBACK Pre = PreCreate;
static const PFLT_POST_OPERATION_CALLBACK Post = PostCreate;
static const PFLT_FILTER_UNLOAD_CALLBACK Unload = FilterUnload;
static const PFLT_CONNECT_NOTIFY Connect = PortConnect;
static const PFLT_DISCONNECT_NOTIFY Disconnect = PortDisconnect;

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PVOID Context = (PVOID)1, Cookie = (PVOID)1;
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("fltkernel_types: pre %d post %d unload %08lx connect %08lx filter %p port %p\n",
             Pre(NULL, NULL, &Context), Post(NULL, NULL, Context, 0), Unload(0),
             Connect(NULL, NULL, NULL, 0, &Cookie), (PVOID)Filter, (PVOID)ServerPort);
    Disconnect(Cookie);
    DbgPrint("fltkernel_types: preop %d %d %d %d %d %d postop %d %d\n", FLT_PREOP_SUCCESS_WITH_CALLBACK,
             FLT_PREOP_SUCCESS_NO_CALLBACK, FLT_PREOP_PENDING, FLT_PREOP_DISALLOW_FASTIO, FLT_PREOP_COMPLETE,
             FLT_PREOP_SYNCHRONIZE, FLT_POSTOP_FINISHED_PROCESSING, FLT_POSTOP_MORE_PROCESSING_REQUIRED);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
