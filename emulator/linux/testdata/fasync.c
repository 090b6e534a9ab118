// Signal-driven I/O and dnotify: F_SETOWN/F_GETOWN(_EX), F_SETSIG, O_ASYNC
// on pipes and sockets (SIGIO at each write and read, si_code, si_fd and
// si_band with F_SETSIG), F_NOTIFY on a directory (one-shot and
// multishot), and the errors. Prints what it sees; the test compares with
// qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include "show.h"

static volatile int count, lastsig, lastcode, lastfd;
static volatile long lastband;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	count++;
	lastsig = sig;
	lastcode = si->si_code;
	lastfd = si->si_fd;
	lastband = si->si_band;
}

static void seen(const char *what, int fd) {
	printf("%s: %d signal(s), last %s code %d fd %s band %#lx\n", what, count,
	       lastsig == SIGIO ? "SIGIO" : lastsig == SIGRTMIN + 1 ? "SIGRTMIN+1" : lastsig ? "other" : "none",
	       lastcode, lastfd == fd ? "right" : "other", lastcode > 0 && lastcode < 10 ? lastband : 0);
	count = lastsig = lastcode = 0;
	lastfd = -1;
	lastband = 0;
}

int main(void) {
	struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigaction(SIGIO, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	int p[2];
	pipe(p);

	// Owners.
	show("F_GETOWN unset", fcntl(p[0], F_GETOWN));
	show("F_SETOWN self", fcntl(p[0], F_SETOWN, getpid()));
	printf("F_GETOWN is self: %d\n", fcntl(p[0], F_GETOWN) == getpid());
	show("F_SETOWN missing pid", fcntl(p[0], F_SETOWN, 999999));
	printf("F_GETOWN kept: %d\n", fcntl(p[0], F_GETOWN) == getpid());
	show("F_SETOWN group", fcntl(p[0], F_SETOWN, -getpgrp()));
	printf("F_GETOWN is -group: %d\n", fcntl(p[0], F_GETOWN) == -getpgrp());
	struct f_owner_ex ex = {0};
	show("F_GETOWN_EX", fcntl(p[0], F_GETOWN_EX, &ex));
	printf("owner_ex: type %d is group %d\n", ex.type, ex.pid == getpgrp());
	ex.type = F_OWNER_TID;
	ex.pid = gettid();
	show("F_SETOWN_EX tid", fcntl(p[0], F_SETOWN_EX, &ex));
	printf("F_GETOWN is tid: %d\n", fcntl(p[0], F_GETOWN) == gettid());
	ex.type = 7;
	show("F_SETOWN_EX bad type", fcntl(p[0], F_SETOWN_EX, &ex));
	show("F_SETSIG 100", fcntl(p[0], F_SETSIG, 100));
	show("F_GETSIG", fcntl(p[0], F_GETSIG));
	show("F_SETOWN 0", fcntl(p[0], F_SETOWN, 0));
	show("F_GETOWN cleared", fcntl(p[0], F_GETOWN));

	// O_ASYNC on a pipe's read end: SIGIO at each write.
	fcntl(p[0], F_SETOWN, getpid());
	show("F_SETFL O_ASYNC", fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
	printf("F_GETFL has O_ASYNC: %d\n", (fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
	seen("after setting", p[0]);
	write(p[1], "a", 1);
	seen("write", p[0]);
	write(p[1], "b", 1);
	seen("second write", p[0]);
	char buf[65536];
	read(p[0], buf, sizeof buf);
	seen("read (no writer async)", p[0]);
	// F_SETSIG: a real-time signal with the descriptor and the band.
	show("F_SETSIG RTMIN+1", fcntl(p[0], F_SETSIG, SIGRTMIN + 1));
	printf("F_GETSIG is RTMIN+1: %d\n", fcntl(p[0], F_GETSIG) == SIGRTMIN + 1);
	write(p[1], "c", 1);
	seen("write with F_SETSIG", p[0]);
	read(p[0], buf, sizeof buf);
	// The write end: SIGIO when the reader takes data.
	fcntl(p[1], F_SETOWN, getpid());
	fcntl(p[1], F_SETSIG, SIGRTMIN + 1);
	fcntl(p[1], F_SETFL, O_ASYNC | O_NONBLOCK);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	write(p[1], "d", 1);
	seen("write, reader not async", p[1]);
	read(p[0], buf, 1);
	seen("read, writer async", p[1]);
	long total = 0, n;
	while ((n = write(p[1], buf, sizeof buf)) > 0)
		total += n;
	seen("filling", p[1]);
	read(p[0], buf, 4096);
	seen("read from full pipe", p[1]);
	// Closing the write end: the async reader hears of it.
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	while (read(p[0], buf, sizeof buf) > 0)
		;
	fcntl(p[0], F_SETSIG, 0);
	fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
	close(p[1]);
	seen("writer closed", p[0]);
	close(p[0]);

	// A socket pair, and a child as the owner.
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	fcntl(s[0], F_SETOWN, getpid());
	fcntl(s[0], F_SETSIG, SIGRTMIN + 1);
	fcntl(s[0], F_SETFL, O_ASYNC);
	write(s[1], "xyz", 3);
	seen("socket write", s[0]);
	int nread = -1;
	ioctl(s[0], FIONREAD, &nread);
	printf("FIONREAD: %d\n", nread);
	fflush(stdout);
	int ready[2];
	pipe(ready);
	pid_t child = fork();
	if (child == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGIO);
		sigprocmask(SIG_BLOCK, &set, NULL);
		write(ready[1], "r", 1);
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		printf("child got %s code %d\n", sig == SIGIO ? "SIGIO" : "other", si.si_code);
		fflush(stdout);
		_exit(0);
	}
	read(ready[0], buf, 1);
	fcntl(s[0], F_SETSIG, 0);
	fcntl(s[0], F_SETOWN, child);
	write(s[1], "w", 1);
	int status;
	waitpid(child, &status, 0);
	seen("child owner", s[0]);

	// dnotify.
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/fasync-%d", getpid());
	mkdir(dir, 0755);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	int f = open("/tmp", O_RDONLY);
	char path[128];
	show("F_NOTIFY on a file", fcntl(open("/proc/self/stat", O_RDONLY), F_NOTIFY, DN_CREATE));
	(void)f;
	show("F_NOTIFY create", fcntl(d, F_NOTIFY, DN_CREATE));
	printf("owner is self: %d\n", fcntl(d, F_GETOWN) == getpid());
	snprintf(path, sizeof path, "%s/a", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	seen("create (one-shot)", d);
	snprintf(path, sizeof path, "%s/b", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	seen("second create", d);
	show("F_NOTIFY multishot", fcntl(d, F_NOTIFY, DN_CREATE | DN_DELETE | DN_MODIFY | DN_RENAME | DN_ATTRIB | DN_MULTISHOT));
	fcntl(d, F_SETSIG, SIGRTMIN + 1);
	snprintf(path, sizeof path, "%s/c", dir);
	int c = open(path, O_CREAT | O_WRONLY, 0644);
	seen("create", d);
	write(c, "x", 1);
	seen("modify", d);
	fchmod(c, 0600);
	seen("attrib", d);
	close(c);
	char to[128];
	snprintf(to, sizeof to, "%s/d", dir);
	rename(path, to);
	seen("rename", d);
	unlink(to);
	seen("unlink", d);
	show("F_NOTIFY off", fcntl(d, F_NOTIFY, 0));
	snprintf(path, sizeof path, "%s/a", dir);
	unlink(path);
	seen("after off", d);
	snprintf(path, sizeof path, "%s/b", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}
