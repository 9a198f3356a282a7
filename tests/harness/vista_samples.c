/*
 * vista_samples.c - the kernel-mode scenarios of Microsoft's registry filter sample (regfltr),
 * told again in cmhook's own words, for a filter built for Windows 7 (NTDDI_VERSION).
 *
 * Built with -DSAMPLE=<n>: DriverEntry registers the sample's callbacks with
 * CmRegisterCallbackEx, makes its registry calls with the Zw routines, checks what the callbacks
 * saw and what the calls returned, unregisters, and prints "sample <name>: pass" or a
 * "FAIL ..." line per broken expectation. tests/harness/test_vista_filters.py builds and loads it.
 */
#include <ntddk.h>

#define SAMPLE_BLOCK 1
#define SAMPLE_BYPASS 2
#define SAMPLE_POST_SUCCESS_TO_ERROR 3
#define SAMPLE_POST_ERROR_TO_SUCCESS 4
#define SAMPLE_CONTEXTS 5
#define SAMPLE_ALTITUDES_BLOCK 6
#define SAMPLE_ALTITUDES_INTERNAL 7
#define SAMPLE_CREATE_V1 8

static const char *Names[] = {"", "block", "bypass", "post override success to error",
                              "post override error to success", "call and object context",
                              "multiple altitudes block during pre", "multiple altitudes internal invocation",
                              "create open v1"};

static BOOLEAN Failed;
#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            DbgPrint("FAIL %s line %d: %s\n", Names[SAMPLE], __LINE__, #cond);          \
            Failed = TRUE;                                                              \
        }                                                                               \
    } while (0)

/* What each callback saw: Seen[callback][class] counts. */
static LONG Seen[3][MaxRegNtNotifyClass];
static LARGE_INTEGER Cookies[3], Spare;
static NTSTATUS PostStatus[3];
static HANDLE SampleKey;
static LONG Marker;  /* its address is the CallContext and the object context */
static LONG CallContextMatched, ObjectContextSeen, Cleanups;
static LONG InnerSeen[3];
static PVOID RedirectObject;

static UNICODE_STRING KeyPath = RTL_CONSTANT_STRING(L"\\REGISTRY\\MACHINE\\SOFTWARE\\VistaSample");
static UNICODE_STRING RedirectPath = RTL_CONSTANT_STRING(L"\\REGISTRY\\MACHINE\\SOFTWARE\\VistaRedirect");
static UNICODE_STRING AskedPath = RTL_CONSTANT_STRING(L"\\REGISTRY\\MACHINE\\SOFTWARE\\VistaAsked");
static UNICODE_STRING Outer = RTL_CONSTANT_STRING(L"Outer");
static UNICODE_STRING Inner = RTL_CONSTANT_STRING(L"Inner");
static UNICODE_STRING Mark = RTL_CONSTANT_STRING(L"Mark");
static ULONG Data = 7;

static NTSTATUS OpenPath(PUNICODE_STRING Path, PHANDLE Key, BOOLEAN Create)
{
    OBJECT_ATTRIBUTES Attributes;
    ULONG Disposition;
    InitializeObjectAttributes(&Attributes, Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (Create)
        return ZwCreateKey(Key, KEY_ALL_ACCESS, &Attributes, 0, NULL, 0, &Disposition);
    return ZwOpenKey(Key, KEY_ALL_ACCESS, &Attributes);
}

static NTSTATUS Query(HANDLE Key, PUNICODE_STRING Name)
{
    UCHAR Buffer[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 16];
    ULONG Length = 0;
    return ZwQueryValueKey(Key, Name, KeyValuePartialInformation, Buffer, sizeof(Buffer), &Length);
}

static NTSTATUS Callback(ULONG Index, REG_NOTIFY_CLASS Class, PVOID Argument2)
{
    InterlockedIncrement(&Seen[Index][Class]);
    switch (SAMPLE) {
    case SAMPLE_BLOCK:
        return Class == RegNtPreSetValueKey ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
    case SAMPLE_BYPASS:
        return Class == RegNtPreSetValueKey ? STATUS_CALLBACK_BYPASS : STATUS_SUCCESS;
    case SAMPLE_POST_SUCCESS_TO_ERROR:
        if (Class == RegNtPostSetValueKey) {
            PREG_POST_OPERATION_INFORMATION Post = Argument2;
            if (NT_SUCCESS(Post->Status)) {
                Post->ReturnStatus = STATUS_ACCESS_DENIED;
                return STATUS_CALLBACK_BYPASS;
            }
        }
        return STATUS_SUCCESS;
    case SAMPLE_POST_ERROR_TO_SUCCESS:
        if (Class == RegNtPostQueryValueKey) {
            PREG_POST_OPERATION_INFORMATION Post = Argument2;
            if (Post->Status == STATUS_OBJECT_NAME_NOT_FOUND) {
                Post->ReturnStatus = STATUS_SUCCESS;
                return STATUS_CALLBACK_BYPASS;
            }
        }
        return STATUS_SUCCESS;
    case SAMPLE_CONTEXTS:
        if (Class == RegNtPreSetValueKey) {
            PREG_SET_VALUE_KEY_INFORMATION Info = Argument2;
            Info->CallContext = &Marker;
            CHECK(NT_SUCCESS(CmSetCallbackObjectContext(Info->Object, &Cookies[Index], &Marker, NULL)));
        } else if (Class == RegNtPostSetValueKey) {
            PREG_POST_OPERATION_INFORMATION Post = Argument2;
            if (Post->CallContext == &Marker)
                InterlockedIncrement(&CallContextMatched);
        } else if (Class == RegNtPreQueryValueKey) {
            PREG_QUERY_VALUE_KEY_INFORMATION Info = Argument2;
            if (Info->ObjectContext == &Marker)
                InterlockedIncrement(&ObjectContextSeen);
        } else if (Class == RegNtCallbackObjectContextCleanup) {
            PREG_CALLBACK_CONTEXT_CLEANUP_INFORMATION Info = Argument2;
            if (Info->ObjectContext == &Marker)
                InterlockedIncrement(&Cleanups);
        }
        return STATUS_SUCCESS;
    case SAMPLE_ALTITUDES_BLOCK:
        if (Class == RegNtPostSetValueKey)
            PostStatus[Index] = ((PREG_POST_OPERATION_INFORMATION)Argument2)->Status;
        return Index == 1 && Class == RegNtPreSetValueKey ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
    case SAMPLE_ALTITUDES_INTERNAL:
        if (Class == RegNtPreSetValueKey) {
            PREG_SET_VALUE_KEY_INFORMATION Info = Argument2;
            if (RtlEqualUnicodeString(Info->ValueName, &Inner, TRUE))
                InterlockedIncrement(&InnerSeen[Index]);
            else if (Index == 1) /* the middle callback writes a second value itself */
                CHECK(NT_SUCCESS(ZwSetValueKey(SampleKey, &Inner, 0, REG_DWORD, &Data, sizeof(Data))));
        }
        return STATUS_SUCCESS;
    case SAMPLE_CREATE_V1:
        if (Class == RegNtPreCreateKeyEx) {
            PREG_CREATE_KEY_INFORMATION_V1 Info = Argument2;
            HANDLE Redirect;
            PVOID Object;
            if (!RtlEqualUnicodeString(Info->CompleteName, &AskedPath, TRUE))
                return STATUS_SUCCESS;
            CHECK(Info->Version == 1);
            CHECK(Info->DesiredAccess == KEY_ALL_ACCESS);
            CHECK(NT_SUCCESS(OpenPath(&RedirectPath, &Redirect, FALSE)));
            CHECK(NT_SUCCESS(ObReferenceObjectByHandle(Redirect, KEY_ALL_ACCESS, NULL, KernelMode, &Object, NULL)));
            ZwClose(Redirect);
            *Info->ResultObject = Object;
            Info->GrantedAccess = KEY_ALL_ACCESS;
            *Info->Disposition = REG_OPENED_EXISTING_KEY;
            RedirectObject = Object;
            return STATUS_CALLBACK_BYPASS;
        }
        return STATUS_SUCCESS;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI Top(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    return Callback(0, (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1, Argument2);
}

static NTSTATUS NTAPI Middle(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    return Callback(1, (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1, Argument2);
}

static NTSTATUS NTAPI Bottom(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    return Callback(2, (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1, Argument2);
}

static VOID Run(PDRIVER_OBJECT Driver)
{
    static UNICODE_STRING Altitudes[3] = {RTL_CONSTANT_STRING(L"380030"), RTL_CONSTANT_STRING(L"380020"),
                                          RTL_CONSTANT_STRING(L"380010")};
    PEX_CALLBACK_FUNCTION Functions[3] = {Top, Middle, Bottom};
    ULONG Count = SAMPLE == SAMPLE_ALTITUDES_BLOCK || SAMPLE == SAMPLE_ALTITUDES_INTERNAL ? 3 : 1;
    ULONG Index;
    ULONG Major = 0, Minor = 0;
    HANDLE Asked;

    CmGetCallbackVersion(&Major, &Minor);
    CHECK(Major == 1);
    CHECK(NT_SUCCESS(OpenPath(&KeyPath, &SampleKey, TRUE)));
    for (Index = 0; Index < Count; Index++)
        CHECK(NT_SUCCESS(CmRegisterCallbackEx(Functions[Index], &Altitudes[Index], Driver, NULL, &Cookies[Index],
                                              NULL)));
    CHECK(CmRegisterCallbackEx(Bottom, &Altitudes[0], Driver, NULL, &Spare, NULL) == STATUS_FLT_INSTANCE_ALTITUDE_COLLISION);

    switch (SAMPLE) {
    case SAMPLE_BLOCK:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_ACCESS_DENIED);
        CHECK(Seen[0][RegNtPreSetValueKey] == 1 && Seen[0][RegNtPostSetValueKey] == 0);
        CHECK(Query(SampleKey, &Outer) == STATUS_OBJECT_NAME_NOT_FOUND);
        break;
    case SAMPLE_BYPASS:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_SUCCESS);
        CHECK(Seen[0][RegNtPostSetValueKey] == 0);
        CHECK(Query(SampleKey, &Outer) == STATUS_OBJECT_NAME_NOT_FOUND);
        break;
    case SAMPLE_POST_SUCCESS_TO_ERROR:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_ACCESS_DENIED);
        CHECK(Query(SampleKey, &Outer) == STATUS_SUCCESS); /* done, though the caller was told otherwise */
        break;
    case SAMPLE_POST_ERROR_TO_SUCCESS:
        CHECK(Query(SampleKey, &Mark) == STATUS_SUCCESS);
        break;
    case SAMPLE_CONTEXTS:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_SUCCESS);
        CHECK(CallContextMatched == 1);
        CHECK(Query(SampleKey, &Outer) == STATUS_SUCCESS);
        CHECK(ObjectContextSeen == 1);
        CHECK(Cleanups == 0);
        CHECK(ZwClose(SampleKey) == STATUS_SUCCESS);
        SampleKey = NULL;
        CHECK(Cleanups == 1);
        break;
    case SAMPLE_ALTITUDES_BLOCK:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_ACCESS_DENIED);
        CHECK(Seen[0][RegNtPreSetValueKey] == 1 && Seen[0][RegNtPostSetValueKey] == 1);
        CHECK(PostStatus[0] == STATUS_ACCESS_DENIED);
        CHECK(Seen[1][RegNtPreSetValueKey] == 1 && Seen[1][RegNtPostSetValueKey] == 0);
        CHECK(Seen[2][RegNtPreSetValueKey] == 0 && Seen[2][RegNtPostSetValueKey] == 0);
        break;
    case SAMPLE_ALTITUDES_INTERNAL:
        CHECK(ZwSetValueKey(SampleKey, &Outer, 0, REG_DWORD, &Data, sizeof(Data)) == STATUS_SUCCESS);
        CHECK(InnerSeen[0] == 0 && InnerSeen[1] == 0 && InnerSeen[2] == 1);
        CHECK(Seen[0][RegNtPreSetValueKey] == 1 && Seen[1][RegNtPreSetValueKey] == 1);
        CHECK(Seen[2][RegNtPreSetValueKey] == 2 && Seen[2][RegNtPostSetValueKey] == 2);
        CHECK(Query(SampleKey, &Inner) == STATUS_SUCCESS);
        break;
    case SAMPLE_CREATE_V1: {
        HANDLE Redirect;
        ULONG_PTR Id = 0, AskedId = 0;
        PCUNICODE_STRING Name = NULL;
        CHECK(NT_SUCCESS(OpenPath(&RedirectPath, &Redirect, TRUE)));
        CHECK(NT_SUCCESS(ZwSetValueKey(Redirect, &Mark, 0, REG_DWORD, &Data, sizeof(Data))));
        CHECK(NT_SUCCESS(OpenPath(&AskedPath, &Asked, TRUE)));
        CHECK(Query(Asked, &Mark) == STATUS_SUCCESS); /* the handle names the redirect key */
        CHECK(NT_SUCCESS(CmCallbackGetKeyObjectID(&Cookies[0], RedirectObject, &Id, &Name)));
        CHECK(Name != NULL && RtlEqualUnicodeString(Name, &RedirectPath, TRUE));
        {
            PVOID AskedObject;
            CHECK(NT_SUCCESS(ObReferenceObjectByHandle(Asked, 0, NULL, KernelMode, &AskedObject, NULL)));
            CHECK(NT_SUCCESS(CmCallbackGetKeyObjectID(&Cookies[0], AskedObject, &AskedId, NULL)));
            ObDereferenceObject(AskedObject);
        }
        CHECK(Id != 0 && Id == AskedId);
        CHECK(CmGetBoundTransaction(&Cookies[0], RedirectObject) == NULL);
        ZwClose(Asked);
        ZwClose(Redirect);
        break;
    }
    }
    for (Index = 0; Index < Count; Index++)
        CHECK(NT_SUCCESS(CmUnRegisterCallback(Cookies[Index])));
    if (SampleKey != NULL)
        ZwClose(SampleKey);
    DbgPrint("sample %s: %s\n", Names[SAMPLE], Failed ? "failed" : "pass");
}

static VOID NTAPI Unload(PDRIVER_OBJECT Driver)
{
    UNREFERENCED_PARAMETER(Driver);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->DriverUnload = Unload;
    Run(Driver);
    return STATUS_SUCCESS;
}
