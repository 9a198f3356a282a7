/*
 * rtl_format.c - the one format engine of the shim: the printf format as the Windows kernel reads
 * it, behind DbgPrint, the kernel CRT's _vsnprintf/_vsnwprintf family and ntstrsafe's printf
 * routines (which call those, as the WDK's inline ones do).
 *
 * Windows' reading, where it differs from the C library's:
 *   - a narrow format (DbgPrint, _vsnprintf, RtlStringCbPrintfA): %s and %c take CHAR, %S and %C
 *     take WCHAR; a wide format (_vsnwprintf, RtlStringCbPrintfW): %s and %c take WCHAR, %S and %C
 *     CHAR; %hs %hc are always narrow, %ls %lc %ws %wc always wide;
 *   - %Z takes a PANSI_STRING, %wZ (or %lZ) a PUNICODE_STRING; a NULL string, or one with a NULL
 *     Buffer, prints "(null)";
 *   - l is 32 bits (long is 32 bits on Windows), I64 and ll 64, I32 32, I pointer-sized (64);
 *   - %p prints the whole 64-bit value: 16 upper-case hex digits, no prefix;
 *   - the 0 flag pads strings and characters with zeros too (Microsoft's CRT does);
 *   - an unknown conversion (%n included) prints as written and takes no argument.
 * Text converts between the two widths as the kernel does with its ANSI code page, taken here as
 * ISO-8859-1 (a CHAR is the WCHAR of the same value; a WCHAR above 0xFF is '?', the default
 * character), except in DbgPrint's output, where a WCHAR becomes UTF-8 so the harness's log can
 * show any name. Widths and precisions count characters of the argument; output that does not fit
 * is still counted, so a caller learns the whole length.
 */
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Where formatted text goes: Room units (CHAR or WCHAR) at Buffer; Used counts every unit the
 * whole text has, written or not. */
typedef struct _FORMAT_SINK {
    BOOLEAN Wide;  /* the units are WCHAR (else CHAR) */
    BOOLEAN Utf8;  /* narrow output: a WCHAR becomes UTF-8 (else the ANSI code page) */
    void *Buffer;
    SIZE_T Room;
    SIZE_T Used;
    int CountLimit; /* widths and precisions are clamped to this */
} FORMAT_SINK;

static void PutUnit(FORMAT_SINK *Sink, unsigned Unit)
{
    if (Sink->Used < Sink->Room) {
        if (Sink->Wide)
            ((WCHAR *)Sink->Buffer)[Sink->Used] = (WCHAR)Unit;
        else
            ((CHAR *)Sink->Buffer)[Sink->Used] = (CHAR)Unit;
    }
    Sink->Used++;
}

/* Count copies of Unit: only those that fit are written, one at a time; the rest are counted. */
static void PutRepeat(FORMAT_SINK *Sink, unsigned Unit, SIZE_T Count)
{
    while (Count && Sink->Used < Sink->Room) {
        PutUnit(Sink, Unit);
        Count--;
    }
    Sink->Used += Count;
}

/* One character of an argument's text, as the output's units. */
static void PutCharacter(FORMAT_SINK *Sink, unsigned Code, BOOLEAN FromWide)
{
    if (Sink->Wide || !FromWide) {
        PutUnit(Sink, FromWide || Sink->Wide ? Code : (unsigned char)Code);
        return;
    }
    if (!Sink->Utf8) {
        PutUnit(Sink, Code <= 0xFF ? Code : '?');
        return;
    }
    {
        unsigned char Bytes[4];
        SIZE_T N, I;
        if (Code < 0x80) { Bytes[0] = (unsigned char)Code; N = 1; }
        else if (Code < 0x800) {
            Bytes[0] = (unsigned char)(0xC0 | (Code >> 6));
            Bytes[1] = (unsigned char)(0x80 | (Code & 0x3F));
            N = 2;
        } else if (Code < 0x10000) {
            Bytes[0] = (unsigned char)(0xE0 | (Code >> 12));
            Bytes[1] = (unsigned char)(0x80 | ((Code >> 6) & 0x3F));
            Bytes[2] = (unsigned char)(0x80 | (Code & 0x3F));
            N = 3;
        } else {
            Bytes[0] = (unsigned char)(0xF0 | (Code >> 18));
            Bytes[1] = (unsigned char)(0x80 | ((Code >> 12) & 0x3F));
            Bytes[2] = (unsigned char)(0x80 | ((Code >> 6) & 0x3F));
            Bytes[3] = (unsigned char)(0x80 | (Code & 0x3F));
            N = 4;
        }
        if (Sink->Used < Sink->Room && Sink->Room - Sink->Used < N)
            Sink->Room = Sink->Used; /* a sequence is written whole or not at all */
        for (I = 0; I < N; I++)
            PutUnit(Sink, Bytes[I]);
    }
}

/* An argument's text: Count characters (narrow or wide) at Text. */
typedef struct _FORMAT_TEXT {
    const void *Text;
    SIZE_T Count;
    BOOLEAN Wide;
} FORMAT_TEXT;

static SIZE_T WideCount(const WCHAR *S, SIZE_T Limit)
{
    SIZE_T N = 0;
    while (N < Limit && S[N])
        N++;
    return N;
}

static SIZE_T NarrowCount(const CHAR *S, SIZE_T Limit)
{
    SIZE_T N = 0;
    while (N < Limit && S[N])
        N++;
    return N;
}

/* What sits between '%' and the conversion. Widths and precisions are clamped to an int (the CRT
 * routines, which count what does not fit), or to what a DbgPrint line holds (more can never show). */
#define FORMAT_COUNT_LIMIT 0x7FFFFFFF
#define DBGPRINT_LINE 4096

typedef struct _FORMAT_FIELDS {
    BOOLEAN Left, Plus, Space, Alternate, Zero;
    int Width;     /* -1: none */
    int Precision; /* -1: none */
} FORMAT_FIELDS;

/* Text padded to the width: spaces before (or zeros, with the 0 flag), spaces after with '-'. */
static void PutText(FORMAT_SINK *Sink, const FORMAT_FIELDS *Fields, FORMAT_TEXT Text)
{
    SIZE_T Count = Text.Count, I;
    SIZE_T Pad;
    if (Fields->Precision >= 0 && (SIZE_T)Fields->Precision < Count)
        Count = (SIZE_T)Fields->Precision;
    Pad = Fields->Width > 0 && (SIZE_T)Fields->Width > Count ? (SIZE_T)Fields->Width - Count : 0;
    if (!Fields->Left)
        PutRepeat(Sink, Fields->Zero ? '0' : ' ', Pad);
    for (I = 0; I < Count; I++) {
        unsigned Code = Text.Wide ? ((const WCHAR *)Text.Text)[I] : ((const unsigned char *)Text.Text)[I];
        if (Text.Wide && Code >= 0xD800 && Code < 0xDC00 && I + 1 < Count && !Sink->Wide && Sink->Utf8) {
            unsigned Low = ((const WCHAR *)Text.Text)[I + 1];
            if (Low >= 0xDC00 && Low < 0xE000) {
                Code = 0x10000 + ((Code - 0xD800) << 10) + (Low - 0xDC00);
                I++;
            }
        }
        PutCharacter(Sink, Code, Text.Wide);
    }
    if (Fields->Left)
        PutRepeat(Sink, ' ', Pad);
}

/* ASCII text (numbers, "(null)") as an argument's text. */
static FORMAT_TEXT Ascii(const char *Text)
{
    FORMAT_TEXT T = {Text, strlen(Text), FALSE};
    return T;
}

/* A number: sign, prefix, precision's zeros, digits, padded to the width. */
static void PutNumber(FORMAT_SINK *Sink, const FORMAT_FIELDS *Fields, char Conversion, BOOLEAN Negative,
                      unsigned long long Magnitude)
{
    char Digits[32], Prefix[3] = "";
    SIZE_T DigitCount, Zeros = 0, Total, Pad, I;
    const char *Spec = Conversion == 'x' ? "%llx" : Conversion == 'X' ? "%llX" : Conversion == 'o' ? "%llo" : "%llu";
    snprintf(Digits, sizeof(Digits), Spec, Magnitude);
    if (Fields->Precision == 0 && Magnitude == 0)
        Digits[0] = 0; /* a zero precision prints no digit for 0 */
    DigitCount = strlen(Digits);
    if (Conversion == 'd' || Conversion == 'i') {
        if (Negative) strcpy(Prefix, "-");
        else if (Fields->Plus) strcpy(Prefix, "+");
        else if (Fields->Space) strcpy(Prefix, " ");
    } else if (Fields->Alternate && Magnitude != 0 && (Conversion == 'x' || Conversion == 'X')) {
        Prefix[0] = '0';
        Prefix[1] = Conversion;
        Prefix[2] = 0;
    }
    if (Fields->Precision >= 0 && (SIZE_T)Fields->Precision > DigitCount)
        Zeros = (SIZE_T)Fields->Precision - DigitCount;
    if (Conversion == 'o' && Fields->Alternate && Zeros == 0 && (DigitCount == 0 || Digits[0] != '0'))
        Zeros = 1; /* %#o: a leading 0 */
    Total = strlen(Prefix) + Zeros + DigitCount;
    Pad = Fields->Width > 0 && (SIZE_T)Fields->Width > Total ? (SIZE_T)Fields->Width - Total : 0;
    if (!Fields->Left && !(Fields->Zero && Fields->Precision < 0))
        PutRepeat(Sink, ' ', Pad);
    for (I = 0; Prefix[I]; I++)
        PutUnit(Sink, (unsigned char)Prefix[I]);
    if (!Fields->Left && Fields->Zero && Fields->Precision < 0)
        PutRepeat(Sink, '0', Pad);
    PutRepeat(Sink, '0', Zeros);
    for (I = 0; I < DigitCount; I++)
        PutUnit(Sink, (unsigned char)Digits[I]);
    if (Fields->Left)
        PutRepeat(Sink, ' ', Pad);
}

/* The format's characters, narrow or wide. */
typedef struct _FORMAT_READER {
    const void *Format;
    BOOLEAN Wide;
    SIZE_T At;
} FORMAT_READER;

static unsigned Peek(const FORMAT_READER *R, SIZE_T Ahead)
{
    SIZE_T I;
    for (I = 0; I < Ahead; I++) /* never read past the terminating NUL */
        if ((R->Wide ? ((const WCHAR *)R->Format)[R->At + I] : ((const unsigned char *)R->Format)[R->At + I]) == 0)
            return 0;
    return R->Wide ? ((const WCHAR *)R->Format)[R->At + Ahead] : ((const unsigned char *)R->Format)[R->At + Ahead];
}

/* A width or a precision: digits, or '*' taken from the arguments (*Negative when that is < 0);
 * -1 when there is neither. */
static int ReadCount(FORMAT_READER *R, va_list *Args, BOOLEAN *Negative, int Limit)
{
    long long Value = 0;
    if (Peek(R, 0) == '*') {
        int Argument = va_arg(*Args, int);
        R->At++;
        *Negative = Argument < 0;
        Value = Argument < 0 ? -(long long)Argument : Argument;
        return Value > Limit ? Limit : (int)Value;
    }
    if (Peek(R, 0) < '0' || Peek(R, 0) > '9')
        return -1;
    for (; Peek(R, 0) >= '0' && Peek(R, 0) <= '9'; R->At++)
        if (Value <= FORMAT_COUNT_LIMIT)
            Value = Value * 10 + (Peek(R, 0) - '0');
    return Value > Limit ? Limit : (int)Value;
}

/* Formats into Sink; the format is WCHAR when WideFormat (the sink then is too). */
static void FormatInto(FORMAT_SINK *Sink, const void *Format, BOOLEAN WideFormat, va_list Incoming)
{
    FORMAT_READER R = {Format, WideFormat, 0};
    va_list Args;
    va_copy(Args, Incoming);
    while (Peek(&R, 0)) {
        FORMAT_FIELDS Fields = {.Width = -1, .Precision = -1};
        BOOLEAN Negative = FALSE;
        int Size = 32; /* argument width in bits; 0 for "h", -1 for "hh" */
        int Wide = -1; /* for strings and characters: 1 wide, 0 narrow, -1 as the conversion says */
        unsigned Conversion, C;
        SIZE_T Start = R.At;
        if (Peek(&R, 0) != '%') {
            PutUnit(Sink, Peek(&R, 0));
            R.At++;
            continue;
        }
        R.At++;
        for (;; R.At++) {
            C = Peek(&R, 0);
            if (C == '-') Fields.Left = TRUE;
            else if (C == '+') Fields.Plus = TRUE;
            else if (C == ' ') Fields.Space = TRUE;
            else if (C == '#') Fields.Alternate = TRUE;
            else if (C == '0') Fields.Zero = TRUE;
            else break;
        }
        Fields.Width = ReadCount(&R, &Args, &Negative, Sink->CountLimit);
        if (Negative) /* a negative '*' width: left-justified */
            Fields.Left = TRUE;
        if (Peek(&R, 0) == '.') {
            R.At++;
            Negative = FALSE;
            Fields.Precision = ReadCount(&R, &Args, &Negative, Sink->CountLimit);
            if (Negative) /* a negative '*' precision: as if none */
                Fields.Precision = -1;
            else if (Fields.Precision < 0) /* "." alone: zero */
                Fields.Precision = 0;
        }
        if (Peek(&R, 0) == 'I' && Peek(&R, 1) == '6' && Peek(&R, 2) == '4') { Size = 64; R.At += 3; }
        else if (Peek(&R, 0) == 'I' && Peek(&R, 1) == '3' && Peek(&R, 2) == '2') { Size = 32; R.At += 3; }
        else if (Peek(&R, 0) == 'I') { Size = 64; R.At++; }
        else if (Peek(&R, 0) == 'l' && Peek(&R, 1) == 'l') { Size = 64; R.At += 2; }
        else if (Peek(&R, 0) == 'h' && Peek(&R, 1) == 'h') { Size = -1; R.At += 2; Wide = 0; }
        else if (Peek(&R, 0) == 'h') { Size = 0; R.At++; Wide = 0; }
        else if (Peek(&R, 0) == 'l' || Peek(&R, 0) == 'w') { Size = 32; Wide = 1; R.At++; } /* long: 32 bits */
        else if (Peek(&R, 0) == 'z' || Peek(&R, 0) == 'j' || Peek(&R, 0) == 't') { Size = 64; R.At++; }
        Conversion = Peek(&R, 0);
        if (Conversion)
            R.At++;
        switch (Conversion) {
        case 'd': case 'i': {
            long long Value = Size == 64 ? va_arg(Args, long long) : (long long)va_arg(Args, int);
            if (Size == 0) Value = (short)Value;
            if (Size == -1) Value = (signed char)Value;
            PutNumber(Sink, &Fields, 'd', Value < 0, Value < 0 ? 0ull - (unsigned long long)Value
                                                             : (unsigned long long)Value);
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            unsigned long long Value = Size == 64 ? va_arg(Args, unsigned long long)
                                                  : (unsigned long long)va_arg(Args, unsigned int);
            if (Size == 0) Value = (unsigned short)Value;
            if (Size == -1) Value = (unsigned char)Value;
            PutNumber(Sink, &Fields, (char)Conversion, FALSE, Value);
            break;
        }
        case 'p': { /* Windows: the full width, upper-case hex, no prefix */
            char Text[24];
            FORMAT_FIELDS Plain = {.Left = Fields.Left, .Width = Fields.Width, .Precision = -1};
            snprintf(Text, sizeof(Text), "%016llX", (unsigned long long)(ULONG_PTR)va_arg(Args, PVOID));
            PutText(Sink, &Plain, Ascii(Text));
            break;
        }
        case 'c': case 'C': {
            int Value = va_arg(Args, int);
            BOOLEAN IsWide = Wide == 1 || (Wide == -1 && ((Conversion == 'c') == (WideFormat != FALSE)));
            WCHAR W = (WCHAR)Value;
            CHAR A = (CHAR)Value;
            FORMAT_TEXT Text = {IsWide ? (const void *)&W : (const void *)&A, 1, IsWide};
            Fields.Precision = -1;
            PutText(Sink, &Fields, Text);
            break;
        }
        case 's': case 'S': {
            PVOID Value = va_arg(Args, PVOID);
            BOOLEAN IsWide = Wide == 1 || (Wide == -1 && ((Conversion == 's') == (WideFormat != FALSE)));
            SIZE_T Limit = Fields.Precision >= 0 ? (SIZE_T)Fields.Precision : (SIZE_T)-1;
            FORMAT_TEXT Text = {Value, 0, IsWide};
            if (Value == NULL)
                Text = Ascii("(null)");
            else
                Text.Count = IsWide ? WideCount(Value, Limit) : NarrowCount(Value, Limit);
            PutText(Sink, &Fields, Text);
            break;
        }
        case 'Z': { /* %Z: PANSI_STRING; %wZ: PUNICODE_STRING */
            PVOID Value = va_arg(Args, PVOID);
            FORMAT_TEXT Text = Ascii("(null)");
            if (Value != NULL && Wide == 1) {
                PCUNICODE_STRING U = Value;
                if (U->Buffer != NULL) {
                    Text.Text = U->Buffer;
                    Text.Count = U->Length / sizeof(WCHAR);
                    Text.Wide = TRUE;
                }
            } else if (Value != NULL) {
                PCANSI_STRING A = Value;
                if (A->Buffer != NULL) {
                    Text.Text = A->Buffer;
                    Text.Count = A->Length;
                }
            }
            PutText(Sink, &Fields, Text);
            break;
        }
        case '%':
            PutUnit(Sink, '%');
            break;
        default: { /* unknown conversion: printed as written */
            SIZE_T I;
            for (I = Start; I < R.At; I++)
                PutUnit(Sink, WideFormat ? ((const WCHAR *)Format)[I] : ((const unsigned char *)Format)[I]);
            break;
        }
        }
    }
    va_end(Args);
}

/* ---------------------------------------------------------------------------
 * DbgPrint's text (narrow, UTF-8 for wide arguments): a line of at most 4,095 bytes.
 * ------------------------------------------------------------------------- */
ULONG CmhookFormatV(char *Target, SIZE_T Room, PCSTR Format, va_list Args)
{
    SIZE_T Line = Room < DBGPRINT_LINE ? Room : DBGPRINT_LINE;
    FORMAT_SINK Sink = {FALSE, TRUE, Target, Line ? Line - 1 : 0, 0, DBGPRINT_LINE - 1};
    FormatInto(&Sink, Format, FALSE, Args);
    if (Line)
        Target[Sink.Used < Sink.Room ? Sink.Used : Sink.Room] = 0;
    return (ULONG)(Sink.Used < DBGPRINT_LINE - 1 ? Sink.Used : DBGPRINT_LINE - 1);
}

/* A test hook: format as DbgPrint would, into a caller's buffer. */
ULONG CmhookFormat(char *Target, SIZE_T Room, PCSTR Format, ...)
{
    ULONG Used;
    va_list Args;
    va_start(Args, Format);
    Used = CmhookFormatV(Target, Room, Format, Args);
    va_end(Args);
    return Used;
}

/* ---------------------------------------------------------------------------
 * The kernel CRT's printf family (ntoskrnl exports these): Count units at most are written; the
 * NUL only when there is room for it. The result: the length when it is below Count or equals
 * it, -1 when the text was cut (Microsoft's _vsnprintf documentation).
 * ------------------------------------------------------------------------- */
static int Bounded(void *Buffer, SIZE_T Count, const void *Format, BOOLEAN Wide, va_list Args)
{
    FORMAT_SINK Sink = {Wide, FALSE, Buffer, Buffer ? Count : 0, 0, FORMAT_COUNT_LIMIT};
    if (Format == NULL)
        return -1;
    FormatInto(&Sink, Format, Wide, Args);
    if (Sink.Used < Sink.Room) {
        if (Wide)
            ((WCHAR *)Buffer)[Sink.Used] = 0;
        else
            ((CHAR *)Buffer)[Sink.Used] = 0;
    }
    if (Buffer == NULL && Count == 0)
        return Sink.Used > 0x7FFFFFFF ? -1 : (int)Sink.Used; /* a length query */
    return Sink.Used <= Count && Sink.Used <= 0x7FFFFFFF ? (int)Sink.Used : -1;
}

int __cdecl _vsnprintf(char *Buffer, size_t Count, const char *Format, va_list Args)
{
    return Bounded(Buffer, Count, Format, FALSE, Args);
}

int __cdecl _snprintf(char *Buffer, size_t Count, const char *Format, ...)
{
    int Result;
    va_list Args;
    va_start(Args, Format);
    Result = Bounded(Buffer, Count, Format, FALSE, Args);
    va_end(Args);
    return Result;
}

int __cdecl _vsnwprintf(WCHAR *Buffer, size_t Count, const WCHAR *Format, va_list Args)
{
    return Bounded(Buffer, Count, Format, TRUE, Args);
}

int __cdecl _snwprintf(WCHAR *Buffer, size_t Count, const WCHAR *Format, ...)
{
    int Result;
    va_list Args;
    va_start(Args, Format);
    Result = Bounded(Buffer, Count, Format, TRUE, Args);
    va_end(Args);
    return Result;
}

/* The kernel's swprintf has no count (the pre-C99 form): the buffer must hold the text. */
int __cdecl swprintf(WCHAR *Buffer, const WCHAR *Format, ...)
{
    int Result;
    va_list Args;
    va_start(Args, Format);
    Result = Bounded(Buffer, (SIZE_T)0x7FFFFFFF, Format, TRUE, Args);
    va_end(Args);
    return Result;
}

