/*
 * Copyright (c) foobar authors
 * SPDX-License-Identifier: MPL-2.0
 *
 * bcryptprimitives.dll for Wine 8 (Debian 12's wine64), which lacks it: the
 * Go runtime (1.22+) loads ProcessPrng from it at start and stops with
 * "bcryptprimitives.dll not found" without it. ProcessPrng here is
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has. Only the Wine
 * prefix of tools/wine-test.sh gets it; the provider itself does not use it.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}

BOOL WINAPI DllMainCRTStartup(HINSTANCE h, DWORD reason, LPVOID reserved) { return TRUE; }
