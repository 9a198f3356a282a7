/*
 * sdkddkver.h - Windows version numbers, as the WDK's sdkddkver.h defines them.
 *
 * A driver tests NTDDI_VERSION (NTDDI_WS03 = 0x05020000: major, minor, service pack,
 * subversion) or _WIN32_WINNT (0x0502) to see which Windows it is built for. cmhook emulates
 * Windows Server 2003, so that is the default; a build for another target sets one of them
 * (-DNTDDI_VERSION=NTDDI_WINXP, -D_WIN32_WINNT=0x0501) and the other follows from it. The
 * headers hold no declaration of a later era yet: what a test of NTDDI_VERSION selects is the
 * filter's own code.
 *
 * ntddk.h (and so every cmhook header) includes this file; the ABI tests compare each value
 * with mingw-w64's sdkddkver.h.
 */
#ifndef _INC_SDKDDKVER
#define _INC_SDKDDKVER

/* _WIN32_WINNT: the Windows version as 0xMMmm. */
#define _WIN32_WINNT_NT4          0x0400
#define _WIN32_WINNT_WIN2K        0x0500
#define _WIN32_WINNT_WINXP        0x0501
#define _WIN32_WINNT_WS03         0x0502
#define _WIN32_WINNT_WIN6         0x0600
#define _WIN32_WINNT_VISTA        0x0600
#define _WIN32_WINNT_WS08         0x0600
#define _WIN32_WINNT_LONGHORN     0x0600
#define _WIN32_WINNT_WIN7         0x0601
#define _WIN32_WINNT_WIN8         0x0602
#define _WIN32_WINNT_WINBLUE      0x0603
#define _WIN32_WINNT_WINTHRESHOLD 0x0A00
#define _WIN32_WINNT_WIN10        0x0A00

/* NTDDI_VERSION: 0xMMmmSSVV, major, minor, service pack, subversion. */
#define NTDDI_WIN2K        0x05000000
#define NTDDI_WIN2KSP1     0x05000100
#define NTDDI_WIN2KSP2     0x05000200
#define NTDDI_WIN2KSP3     0x05000300
#define NTDDI_WIN2KSP4     0x05000400
#define NTDDI_WINXP        0x05010000
#define NTDDI_WINXPSP1     0x05010100
#define NTDDI_WINXPSP2     0x05010200
#define NTDDI_WINXPSP3     0x05010300
#define NTDDI_WINXPSP4     0x05010400
#define NTDDI_WS03         0x05020000
#define NTDDI_WS03SP1      0x05020100
#define NTDDI_WS03SP2      0x05020200
#define NTDDI_WS03SP3      0x05020300
#define NTDDI_WS03SP4      0x05020400
#define NTDDI_WIN6         0x06000000
#define NTDDI_WIN6SP1      0x06000100
#define NTDDI_WIN6SP2      0x06000200
#define NTDDI_WIN6SP3      0x06000300
#define NTDDI_WIN6SP4      0x06000400
#define NTDDI_VISTA        NTDDI_WIN6
#define NTDDI_VISTASP1     NTDDI_WIN6SP1
#define NTDDI_VISTASP2     NTDDI_WIN6SP2
#define NTDDI_VISTASP3     NTDDI_WIN6SP3
#define NTDDI_VISTASP4     NTDDI_WIN6SP4
#define NTDDI_LONGHORN     NTDDI_VISTA
#define NTDDI_WS08         NTDDI_WIN6SP1
#define NTDDI_WS08SP2      NTDDI_WIN6SP2
#define NTDDI_WS08SP3      NTDDI_WIN6SP3
#define NTDDI_WS08SP4      NTDDI_WIN6SP4
#define NTDDI_WIN7         0x06010000
#define NTDDI_WIN8         0x06020000
#define NTDDI_WINBLUE      0x06030000
#define NTDDI_WINTHRESHOLD 0x0A000000
#define NTDDI_WIN10        0x0A000000
/* Windows 10's releases (ExAllocatePool2: NTDDI_WIN10_VB, 2004; push locks: NTDDI_WIN10_RS5, 1809). */
#define NTDDI_WIN10_TH2    0x0A000001
#define NTDDI_WIN10_RS1    0x0A000002
#define NTDDI_WIN10_RS2    0x0A000003
#define NTDDI_WIN10_RS3    0x0A000004
#define NTDDI_WIN10_RS4    0x0A000005
#define NTDDI_WIN10_RS5    0x0A000006
#define NTDDI_WIN10_19H1   0x0A000007
#define NTDDI_WIN10_VB     0x0A000008

/* The fields of an NTDDI_VERSION value. */
#define OSVERSION_MASK  0xFFFF0000U
#define SPVERSION_MASK  0x0000FF00
#define SUBVERSION_MASK 0x000000FF
#define OSVER(Version)  ((Version) & OSVERSION_MASK)
#define SPVER(Version)  (((Version) & SPVERSION_MASK) >> 8)
#define SUBVER(Version) (((Version) & SUBVERSION_MASK))
#define NTDDI_VERSION_FROM_WIN32_WINNT2(Version) Version##0000
#define NTDDI_VERSION_FROM_WIN32_WINNT(Version) NTDDI_VERSION_FROM_WIN32_WINNT2(Version)

/* The target: Server 2003 unless the build says otherwise; given one, the other follows
 * (both usable in #if). */
#if !defined(NTDDI_VERSION) && !defined(_WIN32_WINNT)
#define _WIN32_WINNT  _WIN32_WINNT_WS03
#define NTDDI_VERSION NTDDI_WS03
#elif !defined(NTDDI_VERSION)
#define NTDDI_VERSION ((_WIN32_WINNT) << 16)
#elif !defined(_WIN32_WINNT)
#define _WIN32_WINNT  ((NTDDI_VERSION) >> 16)
#endif

#endif /* _INC_SDKDDKVER */
