// Real-time signals queue: sigqueue(3) values arrive in order, each
// instance once, while a standard signal sent twice is pending once;
// sigtimedwait and handlers see si_code, si_value and the sender; the
// checks on the code a caller may claim. The test compares with
// qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static int got[16], n;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	if (n < 16)
		got[n++] = sig == SIGUSR1 ? -1 : si->si_value.sival_int;
}

int main(void) {
	int rt = SIGRTMIN + 2;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, rt);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 1; i <= 3; i++)
		show("sigqueue", sigqueue(getpid(), rt, (union sigval){.sival_int = 10 * i}));
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	sigset_t pending;
	sigpending(&pending);
	printf("pending rt %d usr1 %d\n", sigismember(&pending, rt), sigismember(&pending, SIGUSR1));
	siginfo_t si;
	int sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s code %d value %d from self %d\n", sig == SIGUSR1 ? "SIGUSR1" : sig == rt ? "rt" : "other",
	       si.si_code, sig == rt ? si.si_value.sival_int : 0, si.si_pid == getpid());
	sig = sigwaitinfo(&set, &si);
	printf("sigwaitinfo: %s code %d value %d from self %d\n", sig == SIGUSR1 ? "SIGUSR1" : sig == rt ? "rt" : "other",
	       si.si_code, sig == rt ? si.si_value.sival_int : 0, si.si_pid == getpid());
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
	sigaction(rt, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("handled:");
	for (int i = 0; i < n; i++)
		printf(" %d", got[i]);
	printf("\n");
	sigpending(&pending);
	printf("pending after rt %d\n", sigismember(&pending, rt));

	// A thread-directed queue, and ignoring a queued signal discards all.
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = 7;
	show("rt_tgsigqueueinfo", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), rt, &info));
	show("rt_tgsigqueueinfo again", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), rt, &info));
	signal(rt, SIG_IGN);
	sigpending(&pending);
	printf("pending after SIG_IGN %d\n", sigismember(&pending, rt));
	sigaction(rt, &sa, NULL);

	// Only a process signalling itself may claim a kernel code.
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		signal(rt, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		for (;;)
			pause();
	}
	info.si_code = SI_USER;
	show("claiming SI_USER to another", syscall(SYS_rt_sigqueueinfo, child, rt, &info));
	info.si_code = SI_QUEUE;
	show("SI_QUEUE to another", syscall(SYS_rt_sigqueueinfo, child, rt, &info));
	show("bad signal", syscall(SYS_rt_sigqueueinfo, child, 99, &info));
	show("no such process", syscall(SYS_rt_sigqueueinfo, 999999, rt, &info));
	int status;
	waitpid(child, &status, 0);
	printf("child killed by rt: %d\n", WIFSIGNALED(status) && WTERMSIG(status) == rt);
	return 0;
}
