/* Stand-in for the NVIDIA driver's libcuda.so.1 (the hardware boundary of the wsl tests).
 * cuInit returns RESULT (a CUresult from cuda.h), or hangs (-DHANG), or crashes (-DCRASH);
 * -DNO_CUINIT builds a library without cuInit (for libnvidia-ml/libdxcore look-alikes). */
#include <unistd.h>

#ifndef NO_CUINIT
int cuInit(unsigned int flags)
{
    (void)flags;
#if defined(HANG)
    for (;;)
        pause();
#elif defined(CRASH)
    volatile int *nowhere = 0;
    return *nowhere;
#else
    return RESULT;
#endif
}

int cuDriverGetVersion(int *version)
{
    *version = 12050;
    return 0;
}
#else
int cuStandinWithoutInit(void)
{
    return 0;
}
#endif
