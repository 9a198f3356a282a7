/*
 * dontuse.h - the WDK's list of C library routines a driver should not call (strcpy, sprintf,
 * wcscat ...), which it marks deprecated with MSVC's #pragma deprecated: a warning, C4995,
 * that a WDK build may turn into an error.
 *
 * gcc and clang ignore that pragma, and marking the C library's own declarations would need
 * them redeclared here: this header deliberately does nothing yet, so that a source that
 * includes it builds. -Wdeprecated-declarations versions are left for when a filter needs
 * them; prefer ntstrsafe.h's routines, as on Windows.
 */
#ifndef _DONTUSE_H_INCLUDED_
#define _DONTUSE_H_INCLUDED_
#endif /* _DONTUSE_H_INCLUDED_ */
