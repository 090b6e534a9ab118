// signalfd: blocked signals read as signalfd_siginfo (kill, a child's
// SIGCHLD with its pid and status), readiness through poll and epoll,
// non-blocking reads, changing the mask of an existing descriptor, and the
// errors. Prints what it sees; the test compares with qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

int main(void) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	struct signalfd_siginfo si;
	show("read with nothing pending", read(fd, &si, sizeof si));
	struct pollfd p = {fd, POLLIN, 0};
	show("poll with nothing pending", poll(&p, 1, 0));

	kill(getpid(), SIGUSR1);
	show("poll after kill", poll(&p, 1, 0));
	long n = read(fd, &si, sizeof si);
	printf("read %ld: signo %u, code %d, pid is mine %d\n", n, si.ssi_signo, si.ssi_code, si.ssi_pid == (unsigned)getpid());
	show("short buffer", read(fd, &si, 8));

	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 42};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	struct epoll_event got;
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll: %ld event, data %llu\n", n, (unsigned long long)got.data.u64);
	n = read(fd, &si, sizeof si);
	printf("read %ld: signo %u, code %d, pid is child %d, status %d\n", n, si.ssi_signo, si.ssi_code,
	       si.ssi_pid == (unsigned)pid, si.ssi_status);
	waitpid(pid, NULL, 0);

	// A new mask for the same descriptor: SIGUSR2 only.
	sigset_t two;
	sigemptyset(&two);
	sigaddset(&two, SIGUSR2);
	sigprocmask(SIG_BLOCK, &two, NULL);
	show("change mask", signalfd(fd, &two, 0) == fd);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR2);
	n = read(fd, &si, sizeof si);
	printf("read %ld: signo %u\n", n, si.ssi_signo);
	show("SIGUSR1 still pending", sigpending(&set) == 0 && sigismember(&set, SIGUSR1));

	show("not a signalfd", signalfd(0, &two, 0));
	show("bad flags", signalfd(-1, &two, 0x1));
	return 0;
}
