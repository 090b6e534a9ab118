// pidfd_open, pidfd_send_signal and waitid(P_PIDFD): a child watched
// through its pidfd, signalled, waited for, and the errors once it is gone.
// Compared with qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig) { return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

int main(void) {
	pid_t child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	int fd = pidfd_open(child, 0);
	printf("pidfd_open: %d, close-on-exec %d\n", fd >= 0, fcntl(fd, F_GETFD) == FD_CLOEXEC);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	printf("running child readable: %d\n", poll(&p, 1, 0));
	char c;
	errno = 0;
	printf("read: %d\n", read(fd, &c, 1) == -1 && errno == EINVAL);
	printf("signal 0: %d\n", pidfd_send_signal(fd, 0));
	printf("SIGTERM: %d\n", pidfd_send_signal(fd, SIGTERM));
	printf("exited child readable: %d %d\n", poll(&p, 1, 5000), p.revents == POLLIN);
	siginfo_t si = {0};
	printf("waitid: %d\n", waitid(P_PIDFD, fd, &si, WEXITED));
	printf("status: pid ok %d, code %d, signal %d\n", si.si_pid == child, si.si_code == CLD_KILLED, si.si_status);
	errno = 0;
	printf("signal after reaping: %d\n", pidfd_send_signal(fd, SIGTERM) == -1 && errno == ESRCH);
	errno = 0;
	printf("waitid after reaping: %d\n", waitid(P_PIDFD, fd, &si, WEXITED) == -1 && errno == ECHILD);
	printf("still readable: %d\n", poll(&p, 1, 0));
	errno = 0;
	printf("no such process: %d\n", pidfd_open(999999, 0) == -1 && errno == ESRCH);
	errno = 0;
	printf("bad flags: %d\n", pidfd_open(getpid(), 1) == -1 && errno == EINVAL);
	errno = 0;
	printf("not a pidfd: %d\n", pidfd_send_signal(1, 0) == -1 && errno == EBADF);
	int self = pidfd_open(getpid(), 0);
	errno = 0;
	printf("siginfo argument: %d\n", syscall(SYS_pidfd_send_signal, self, 0, &si, 0) == -1);
	return 0;
}
