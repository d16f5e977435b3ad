/* bcryptprimitives.dll for Wine 8, which lacks it (Wine 9.0 has it).
 *
 * Rust's standard library (1.78 and later) on Windows draws its random numbers (HashMap
 * seeds) from ProcessPrng in bcryptprimitives.dll. Wine 8.0, Debian 12's, has no such
 * DLL, so every Rust program fails to start under it. This DLL provides the one function
 * over RtlGenRandom (advapi32's SystemFunction036), which Wine 8 has. It is for running
 * the Windows build's tests under Wine on Linux only: scripts/wine-run.sh builds it with
 * mingw-w64 and puts it beside the .exe; a real Windows has the system's own.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
