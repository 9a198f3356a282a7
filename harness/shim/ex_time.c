/*
 * ex_time.c - time as a driver reads it: interrupt time, tick count and the performance counter
 * from the emulated clock (KeQueryInterruptTime, harness/routines/ketime.py: 100 ns since the
 * kernel booted on registry_core's clock, which a script's `advance` moves), the time zone, and
 * TIME_FIELDS.
 *
 * Choices, each Windows' where it has one:
 * - A tick is 15.625 ms (156250 units of 100 ns, KeQueryTimeIncrement), the default clock
 *   interval of x64 Windows; the tick count is interrupt time over it.
 * - The performance counter runs at 10 MHz, the frequency Windows 10 reports on machines with an
 *   invariant TSC: its count is interrupt time in 100 ns.
 * - The time zone is UTC (a bias of 0): local time is system time (cmhook's profiles name no
 *   time zone).
 * - RtlTimeFieldsToTime accepts years 1601 to 30827 (a LARGE_INTEGER time's range); Weekday is
 *   ignored, as Windows ignores it.
 */
#define _GNU_SOURCE
#define NTDDI_VERSION NTDDI_WIN10_VB /* every routine below, whatever era declares it */
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"

enum { TIME_INCREMENT = 156250, PERFORMANCE_FREQUENCY = 10000000 };

#define UNITS_PER_SECOND 10000000ULL
#define UNITS_PER_DAY (86400ULL * UNITS_PER_SECOND)
/* Days from 1601-01-01 (day 0 of a LARGE_INTEGER time, a Monday) to 1970-01-01. */
#define DAYS_1601_TO_1970 134774LL

ULONG NTAPI KeQueryTimeIncrement(VOID)
{
    return TIME_INCREMENT;
}

VOID NTAPI KeQueryTickCount(PLARGE_INTEGER CurrentCount)
{
    CurrentCount->QuadPart = (LONGLONG)(KeQueryInterruptTime() / TIME_INCREMENT);
}

LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER Count;
    if (PerformanceFrequency != NULL)
        PerformanceFrequency->QuadPart = PERFORMANCE_FREQUENCY;
    Count.QuadPart = (LONGLONG)KeQueryInterruptTime();
    return Count;
}

VOID NTAPI KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime)
{
    KeQuerySystemTime(CurrentTime);
}

/* Interrupt time and, in *QpcTimeStamp, the performance counter read with it (the same count at 10 MHz). */
ULONG64 NTAPI KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp)
{
    ULONG64 Now = KeQueryInterruptTime();
    *QpcTimeStamp = Now;
    return Now;
}

VOID NTAPI ExSystemTimeToLocalTime(PLARGE_INTEGER SystemTime, PLARGE_INTEGER LocalTime)
{
    LocalTime->QuadPart = SystemTime->QuadPart; /* UTC: a bias of 0 */
}

VOID NTAPI ExLocalTimeToSystemTime(PLARGE_INTEGER LocalTime, PLARGE_INTEGER SystemTime)
{
    SystemTime->QuadPart = LocalTime->QuadPart;
}

/* The proleptic Gregorian calendar as day counts from 1970-01-01 (negative before it): the
 * era-of-400-years arithmetic, each era 146097 days, counted from 0000-03-01 so that a leap day
 * ends its year. */
static LONGLONG DaysFromCivil(LONGLONG Year, LONG Month, LONG Day)
{
    Year -= Month <= 2;
    LONGLONG Era = (Year >= 0 ? Year : Year - 399) / 400;
    LONGLONG YearOfEra = Year - Era * 400;
    LONGLONG DayOfYear = (153 * (Month > 2 ? Month - 3 : Month + 9) + 2) / 5 + Day - 1;
    LONGLONG DayOfEra = YearOfEra * 365 + YearOfEra / 4 - YearOfEra / 100 + DayOfYear;
    return Era * 146097 + DayOfEra - 719468;
}

static void CivilFromDays(LONGLONG Days, LONGLONG *Year, LONG *Month, LONG *Day)
{
    Days += 719468;
    LONGLONG Era = (Days >= 0 ? Days : Days - 146096) / 146097;
    LONGLONG DayOfEra = Days - Era * 146097;
    LONGLONG YearOfEra = (DayOfEra - DayOfEra / 1460 + DayOfEra / 36524 - DayOfEra / 146096) / 365;
    LONGLONG DayOfYear = DayOfEra - (365 * YearOfEra + YearOfEra / 4 - YearOfEra / 100);
    LONGLONG MonthIndex = (5 * DayOfYear + 2) / 153;
    *Day = (LONG)(DayOfYear - (153 * MonthIndex + 2) / 5 + 1);
    *Month = (LONG)(MonthIndex < 10 ? MonthIndex + 3 : MonthIndex - 9);
    *Year = YearOfEra + Era * 400 + (*Month <= 2);
}

VOID NTAPI RtlTimeToTimeFields(PLARGE_INTEGER Time, PTIME_FIELDS TimeFields)
{
    ULONGLONG Units = (ULONGLONG)Time->QuadPart;
    ULONGLONG Days = Units / UNITS_PER_DAY;
    ULONGLONG InDay = Units % UNITS_PER_DAY;
    LONGLONG Year;
    LONG Month, Day;
    CivilFromDays((LONGLONG)Days - DAYS_1601_TO_1970, &Year, &Month, &Day);
    TimeFields->Year = (CSHORT)Year;
    TimeFields->Month = (CSHORT)Month;
    TimeFields->Day = (CSHORT)Day;
    TimeFields->Hour = (CSHORT)(InDay / (3600 * UNITS_PER_SECOND));
    TimeFields->Minute = (CSHORT)(InDay / (60 * UNITS_PER_SECOND) % 60);
    TimeFields->Second = (CSHORT)(InDay / UNITS_PER_SECOND % 60);
    TimeFields->Milliseconds = (CSHORT)(InDay / 10000 % 1000);
    TimeFields->Weekday = (CSHORT)((Days + 1) % 7); /* 0 Sunday; 1601-01-01 was a Monday */
}

static BOOLEAN LeapYear(LONG Year)
{
    return (Year % 4 == 0 && Year % 100 != 0) || Year % 400 == 0;
}

BOOLEAN NTAPI RtlTimeFieldsToTime(PTIME_FIELDS TimeFields, PLARGE_INTEGER Time)
{
    static const UCHAR MonthDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    LONG Year = TimeFields->Year, Month = TimeFields->Month, Day = TimeFields->Day;
    if (Year < 1601 || Year > 30827 || Month < 1 || Month > 12 || Day < 1 ||
        Day > MonthDays[Month - 1] + (Month == 2 && LeapYear(Year)) || TimeFields->Hour < 0 ||
        TimeFields->Hour > 23 || TimeFields->Minute < 0 || TimeFields->Minute > 59 || TimeFields->Second < 0 ||
        TimeFields->Second > 59 || TimeFields->Milliseconds < 0 || TimeFields->Milliseconds > 999)
        return FALSE;
    ULONGLONG Days = (ULONGLONG)(DaysFromCivil(Year, Month, Day) + DAYS_1601_TO_1970);
    ULONGLONG Seconds = ((ULONGLONG)TimeFields->Hour * 60 + (ULONGLONG)TimeFields->Minute) * 60 +
                        (ULONGLONG)TimeFields->Second;
    Time->QuadPart = (LONGLONG)(Days * UNITS_PER_DAY + Seconds * UNITS_PER_SECOND +
                                (ULONGLONG)TimeFields->Milliseconds * 10000);
    return TRUE;
}
