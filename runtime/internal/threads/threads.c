// Signal-driven privilege drop on other threads; see doc.go.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "threads.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static unsigned long long want_bounding, want_permitted, want_effective, want_inheritable;
static int want_last_cap;
static _Atomic int target_tid;
static _Atomic int acked_tid;
static _Atomic int handler_errno;

static void restrict_self(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct cur[2];
	int err = 0;
	if (syscall(SYS_capget, &hdr, cur) != 0) {
		err = errno;
		goto out;
	}
	unsigned long long perm = ((unsigned long long)cur[1].permitted << 32) | cur[0].permitted;
	unsigned long long eff = ((unsigned long long)cur[1].effective << 32) | cur[0].effective;
	unsigned long long inh = ((unsigned long long)cur[1].inheritable << 32) | cur[0].inheritable;
	// Dropping from the bounding set needs CAP_SETPCAP in the effective set.
	if (eff & (1ULL << CAP_SETPCAP)) {
		for (int c = 0; c <= want_last_cap; c++) {
			if (!(want_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
				err = errno;
				goto out;
			}
		}
	}
	// Intersections never ask for more than the thread has, so capset
	// cannot refuse them.
	perm &= want_permitted;
	eff &= want_effective & perm;
	inh &= want_inheritable;
	cur[0].permitted = (unsigned)perm;
	cur[1].permitted = (unsigned)(perm >> 32);
	cur[0].effective = (unsigned)eff;
	cur[1].effective = (unsigned)(eff >> 32);
	cur[0].inheritable = (unsigned)inh;
	cur[1].inheritable = (unsigned)(inh >> 32);
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, cur) != 0) {
		err = errno;
		goto out;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
		err = errno;
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		err = errno;
out:
	atomic_store(&handler_errno, err);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	int saved = errno;
	// Only our own tgkill counts; the same signal from elsewhere is ignored.
	if (si->si_code == SI_TKILL && si->si_pid == getpid() && syscall(SYS_gettid) == atomic_load(&target_tid)) {
		restrict_self();
		atomic_store(&acked_tid, atomic_load(&target_tid));
	}
	errno = saved;
}

int wasmrt_threads_install(unsigned long long bounding, unsigned long long permitted,
			   unsigned long long effective, unsigned long long inheritable, int last_cap)
{
	want_bounding = bounding;
	want_permitted = permitted;
	want_effective = effective;
	want_inheritable = inheritable;
	want_last_cap = last_cap;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	// SA_ONSTACK: the Go runtime gives each thread an alternate signal
	// stack and requires handlers to run on it.
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(WASMRT_THREADS_SIGNAL, &sa, NULL) != 0)
		return errno;
	return 0;
}

int wasmrt_threads_restrict(int tid, int timeout_ms)
{
	atomic_store(&acked_tid, 0);
	atomic_store(&handler_errno, 0);
	atomic_store(&target_tid, tid);
	if (syscall(SYS_tgkill, getpid(), tid, WASMRT_THREADS_SIGNAL) != 0)
		return errno;
	struct timespec pause = {0, 50 * 1000};
	for (int waited = 0; atomic_load(&acked_tid) != tid; waited++) {
		if (waited >= timeout_ms * 20)
			return ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
	atomic_store(&target_tid, 0);
	return atomic_load(&handler_errno);
}
