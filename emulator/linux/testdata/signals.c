// signals.c exercises signal delivery the way the riscv64 kernel does it:
// siginfo and ucontext contents, resuming from a handler with an edited
// context, masks, the alternate stack, SA_RESTART against EINTR, FP state
// restored by sigreturn, deaths by signal and SIGCHLD. Its output is
// compared between the emulator and qemu-riscv64.
#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int segv_hits, usr1_blocked, chld_hits, usr2_hits;
static char altstack[64 * 1024];
static volatile int on_alt;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	unsigned short *pc = (unsigned short *)uc->uc_mcontext.__gregs[REG_PC];
	segv_hits++;
	printf("segv sig=%d code=%d addr=%#lx\n", sig, si->si_code, (unsigned long)si->si_addr);
	// Skip the faulting load (2 or 4 bytes) and resume.
	uc->uc_mcontext.__gregs[REG_PC] += (*pc & 3) == 3 ? 4 : 2;
}

static void on_usr1(int sig) {
	sigset_t cur;
	char here;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked = sigismember(&cur, SIGUSR1);
	on_alt = &here >= altstack && &here < altstack + sizeof altstack;
	fesetround(FE_TONEAREST);
}

static void on_usr2(int sig) { usr2_hits++; }
static void on_chld(int sig) { chld_hits++; }

static void interrupted_read(int restart) {
	int p[2];
	char c = 0;
	struct sigaction sa = {0};
	sa.sa_handler = on_usr2;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR2, &sa, NULL);
	pipe(p);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		usleep(100000);
		kill(parent, SIGUSR2);
		usleep(100000);
		write(p[1], "x", 1);
		_exit(0);
	}
	close(p[1]);
	ssize_t n = read(p[0], &c, 1);
	int err = errno;
	printf("read restart=%d n=%zd errno=%s usr2=%d\n", restart, n, n < 0 ? strerror(err) : "-", usr2_hits);
	waitpid(child, NULL, 0);
	close(p[0]);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	volatile int *bad = (int *)0x10;
	int v = *bad;
	(void)v;
	printf("resumed after segv, hits=%d\n", segv_hits);

	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	fesetround(FE_UPWARD);
	raise(SIGUSR1);
	sigset_t after;
	sigprocmask(SIG_BLOCK, NULL, &after);
	printf("usr1 blocked in handler=%d after=%d on altstack=%d round restored=%d\n", usr1_blocked,
	       sigismember(&after, SIGUSR1), on_alt, fegetround() == FE_UPWARD);
	fesetround(FE_TONEAREST);

	interrupted_read(0);
	interrupted_read(1);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)0 = 1;
		_exit(0);
	}
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
	}
	printf("child signaled=%d sig=%d chld=%d\n", WIFSIGNALED(st), WTERMSIG(st), chld_hits);
	c = fork();
	if (c == 0)
		_exit(42);
	while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
	}
	printf("child exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
	return 1;
}
