/* Lists as drivers keep them: records with a LIST_ENTRY (and a SINGLE_LIST_ENTRY) member,
 * CONTAINING_RECORD back to the record, a self-check run from DriverEntry that asserts every
 * result Windows documents. DriverEntry fails if any check fails. */
#include <ntddk.h>

typedef struct _ITEM {
    ULONG Value;
    LIST_ENTRY Link;
    SINGLE_LIST_ENTRY StackLink;
} ITEM, *PITEM;

static ULONG Failures;

/* NT_VERIFY evaluates once, reports a failure, and gives the truth. */
#define CHECK(e) \
    do { \
        if (!NT_VERIFY(e)) \
            Failures++; \
    } while (0)

/* The values front to back, checking every Blink against the Flink before it. */
static ULONG Order(PLIST_ENTRY Head)
{
    ULONG Digits = 0;
    PLIST_ENTRY Entry;
    for (Entry = Head->Flink; Entry != Head; Entry = Entry->Flink) {
        CHECK(Entry->Flink->Blink == Entry && Entry->Blink->Flink == Entry);
        Digits = Digits * 10 + CONTAINING_RECORD(Entry, ITEM, Link)->Value;
    }
    CHECK(Head->Flink->Blink == Head && Head->Blink->Flink == Head);
    return Digits;
}

static VOID SelfCheck(VOID)
{
    LIST_ENTRY Head, Other;
    SINGLE_LIST_ENTRY Stack;
    ITEM Items[7];
    PSINGLE_LIST_ENTRY Popped;
    ULONG i;

    for (i = 0; i < ARRAYSIZE(Items); i++)
        Items[i].Value = i;

    InitializeListHead(&Head);
    CHECK(IsListEmpty(&Head));
    CHECK(Head.Flink == &Head && Head.Blink == &Head);
    CHECK(RemoveHeadList(&Head) == &Head); /* an empty list gives its head */
    CHECK(RemoveTailList(&Head) == &Head);
    CHECK(IsListEmpty(&Head));

    InsertTailList(&Head, &Items[1].Link);
    InsertTailList(&Head, &Items[2].Link);
    InsertTailList(&Head, &Items[3].Link);
    InsertHeadList(&Head, &Items[4].Link);
    CHECK(!IsListEmpty(&Head));
    CHECK(Order(&Head) == 4123);

    CHECK(RemoveEntryList(&Items[2].Link) == FALSE); /* FALSE: entries remain */
    CHECK(Order(&Head) == 413);
    CHECK(CONTAINING_RECORD(RemoveHeadList(&Head), ITEM, Link) == &Items[4]);
    CHECK(CONTAINING_RECORD(RemoveTailList(&Head), ITEM, Link) == &Items[3]);
    CHECK(Order(&Head) == 1);
    CHECK(RemoveEntryList(&Items[1].Link) == TRUE); /* TRUE: the list is now empty */
    CHECK(IsListEmpty(&Head));

    /* AppendTailList: a headless ring 5 <-> 6 after 1. */
    InsertTailList(&Head, &Items[1].Link);
    Items[5].Link.Flink = &Items[6].Link;
    Items[5].Link.Blink = &Items[6].Link;
    Items[6].Link.Flink = &Items[5].Link;
    Items[6].Link.Blink = &Items[5].Link;
    AppendTailList(&Head, &Items[5].Link);
    CHECK(Order(&Head) == 156);
    CHECK(Head.Blink == &Items[6].Link);

    /* A list head appended as an entry, then taken out: the usual way to move a whole list. */
    InitializeListHead(&Other);
    InsertTailList(&Other, &Items[2].Link);
    AppendTailList(&Head, &Other);
    CHECK(RemoveEntryList(&Other) == FALSE);
    CHECK(Order(&Head) == 1562);

    Stack.Next = NULL;
    CHECK(PopEntryList(&Stack) == NULL);
    PushEntryList(&Stack, &Items[1].StackLink);
    PushEntryList(&Stack, &Items[2].StackLink);
    PushEntryList(&Stack, &Items[3].StackLink);
    Popped = PopEntryList(&Stack);
    CHECK(CONTAINING_RECORD(Popped, ITEM, StackLink) == &Items[3]);
    CHECK(CONTAINING_RECORD(PopEntryList(&Stack), ITEM, StackLink) == &Items[2]);
    CHECK(CONTAINING_RECORD(PopEntryList(&Stack), ITEM, StackLink) == &Items[1]);
    CHECK(PopEntryList(&Stack) == NULL && Stack.Next == NULL);
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    SelfCheck();
    DbgPrint("list_self_check: %lu failures\n", Failures);
    DriverObject->DriverUnload = DriverUnload;
    return Failures == 0 ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
