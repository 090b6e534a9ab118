// The real-time signal the broadcast uses: glibc keeps the first two
// (SIGRTMIN is 34 for programs) and the Go runtime uses none of them.
#define WASMRT_THREADS_SIGNAL 40

int wasmrt_threads_install(unsigned long long bounding, unsigned long long permitted,
			   unsigned long long effective, unsigned long long inheritable, int last_cap);
int wasmrt_threads_restrict(const int *tids, int *results, int n, int timeout_ms);
