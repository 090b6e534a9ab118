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
// The threads being restricted: the handler finds its own id among them,
// records the result and marks itself done.
#define MAX_TARGETS 1024
static _Atomic int target_tid[MAX_TARGETS];
static _Atomic int target_errno[MAX_TARGETS];
static _Atomic int target_done[MAX_TARGETS];
static _Atomic int ntargets;

static int restrict_self(void)
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
	return err;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	int saved = errno;
	// Only our own tgkill counts; the same signal from elsewhere is ignored.
	if (si->si_code == SI_TKILL && si->si_pid == getpid()) {
		int self = (int)syscall(SYS_gettid), n = atomic_load(&ntargets);
		for (int i = 0; i < n; i++) {
			if (atomic_load(&target_tid[i]) == self && !atomic_load(&target_done[i])) {
				atomic_store(&target_errno[i], restrict_self());
				atomic_store(&target_done[i], 1);
				break;
			}
		}
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

// wasmrt_threads_restrict signals every thread in tids at once and waits
// until each has answered or timeout_ms has passed. results[i] is 0 when
// thread i restricted itself, its errno when that failed, ESRCH when it
// is gone and ETIMEDOUT when it did not answer.
int wasmrt_threads_restrict(const int *tids, int *results, int n, int timeout_ms)
{
	if (n > MAX_TARGETS)
		return E2BIG;
	atomic_store(&ntargets, 0);
	for (int i = 0; i < n; i++) {
		atomic_store(&target_tid[i], tids[i]);
		atomic_store(&target_errno[i], 0);
		atomic_store(&target_done[i], 0);
	}
	atomic_store(&ntargets, n);
	int pending = 0;
	for (int i = 0; i < n; i++) {
		if (syscall(SYS_tgkill, getpid(), tids[i], WASMRT_THREADS_SIGNAL) != 0) {
			results[i] = errno;
			atomic_store(&target_done[i], 1);
		} else {
			results[i] = ETIMEDOUT;
			pending++;
		}
	}
	struct timespec pause = {0, 20 * 1000};
	for (int waited = 0; pending > 0 && waited < timeout_ms * 50; waited++) {
		pending = 0;
		for (int i = 0; i < n; i++) {
			if (results[i] == ETIMEDOUT && !atomic_load(&target_done[i]))
				pending++;
		}
		if (pending > 0)
			nanosleep(&pause, NULL);
	}
	for (int i = 0; i < n; i++) {
		if (results[i] == ETIMEDOUT && atomic_load(&target_done[i]))
			results[i] = atomic_load(&target_errno[i]);
	}
	// Late answers must not touch the next round's table.
	atomic_store(&ntargets, 0);
	return 0;
}
