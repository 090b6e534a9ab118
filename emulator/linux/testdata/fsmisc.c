// File and process odds and ends that real test suites (CPython's) check:
// extended attributes, select on a closed descriptor, pipe capacity,
// sparse files, CPU-time clocks. Prints what it sees; the test compares
// with qemu-riscv64 (the host kernel).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "show.h"

static void onalarm(int sig) { (void)sig; }

static double secs(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
	char dir[] = "/tmp/fsmiscXXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char f[64], l[64];
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(l, sizeof l, "%s/l", dir);
	close(open(f, O_CREAT | O_WRONLY, 0644));
	symlink("f", l);

	// Extended attributes.
	char buf[256];
	show("list empty", listxattr(f, buf, sizeof buf));
	show("get missing", getxattr(f, "user.a", buf, sizeof buf));
	show("set", setxattr(f, "user.a", "hello", 5, 0));
	show("set create existing", setxattr(f, "user.a", "x", 1, XATTR_CREATE));
	show("set replace missing", setxattr(f, "user.b", "x", 1, XATTR_REPLACE));
	show("set b", setxattr(f, "user.b", "", 0, 0));
	show("get size probe", getxattr(f, "user.a", NULL, 0));
	show("get small buffer", getxattr(f, "user.a", buf, 2));
	long n = getxattr(l, "user.a", buf, sizeof buf); // follows the link
	printf("get through link: %ld %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	show("lget on link", lgetxattr(l, "user.a", buf, sizeof buf));
	show("lset user on link", lsetxattr(l, "user.a", "x", 1, 0));
	n = listxattr(f, buf, sizeof buf);
	printf("list:");
	for (long i = 0; i < n; i += strlen(buf + i) + 1)
		printf(" %s", buf + i);
	printf("\n");
	show("list size probe", listxattr(f, NULL, 0));
	show("list small buffer", listxattr(f, buf, 3));
	int fd = open(f, O_RDONLY);
	show("fget", fgetxattr(fd, "user.b", buf, sizeof buf));
	show("fremove", fremovexattr(fd, "user.b"));
	show("remove missing", removexattr(f, "user.b"));
	show("bad namespace", setxattr(f, "bogus.a", "x", 1, 0));
	show("empty name", getxattr(f, "", buf, sizeof buf));
	show("bad flags", setxattr(f, "user.c", "x", 1, 4));
	close(fd);

	// select on a closed descriptor fails the call.
	fd = open(f, O_RDONLY);
	close(fd);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	struct timeval tv = {0, 0};
	show("select closed fd", select(fd + 1, &rd, NULL, NULL, &tv));

	// Pipe capacity.
	int p[2];
	pipe2(p, O_NONBLOCK);
	show("pipe size", fcntl(p[1], F_GETPIPE_SZ));
	show("set pipe size 5000", fcntl(p[1], F_SETPIPE_SZ, 5000));
	show("pipe size now", fcntl(p[0], F_GETPIPE_SZ));
	char big[16384] = {0};
	show("write 16k into 8k pipe", write(p[1], big, sizeof big));
	show("shrink below content", fcntl(p[1], F_SETPIPE_SZ, 4096));
	fd = open(f, O_RDONLY);
	show("pipe size of a file", fcntl(fd, F_GETPIPE_SZ));
	close(fd);

	// A sparse file: a byte written at 1 GiB.
	fd = open(f, O_RDWR);
	show("pwrite at 1 GiB", pwrite(fd, "x", 1, 1L << 30));
	struct stat st;
	fstat(fd, &st);
	printf("sparse size %lld, under 1 MiB allocated: %d\n", (long long)st.st_size, st.st_blocks * 512 < (1 << 20));
	show("pread in the hole", pread(fd, buf, 4, 1L << 29));
	printf("hole reads zeros: %d\n", buf[0] == 0 && buf[3] == 0);
	close(fd);

	// CPU time: a busy loop counts, a sleep does not.
	double p0 = secs(CLOCK_PROCESS_CPUTIME_ID), t0 = secs(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 20000000; i++)
		x += i;
	double p1 = secs(CLOCK_PROCESS_CPUTIME_ID), t1 = secs(CLOCK_THREAD_CPUTIME_ID);
	printf("busy loop advances process and thread cpu time: %d %d\n", p1 > p0, t1 > t0);
	struct timespec nap = {0, 200000000};
	nanosleep(&nap, NULL);
	double p2 = secs(CLOCK_PROCESS_CPUTIME_ID);
	printf("sleep adds under 50 ms of cpu time: %d\n", p2 - p1 < 0.05);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("rusage user time positive: %d\n", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0);
	clockid_t cid;
	clock_getcpuclockid(0, &cid);
	printf("clock_getcpuclockid(0) clock advanced: %d\n", secs(cid) >= p1);

	// epoll returns several events with their 64-bit data intact.
	int ep = epoll_create1(0), q[3][2];
	for (int i = 0; i < 3; i++) {
		pipe(q[i]);
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = 0x1122334455660000ull + i};
		epoll_ctl(ep, EPOLL_CTL_ADD, q[i][0], &e);
	}
	write(q[0][1], "a", 1);
	write(q[2][1], "c", 1);
	struct epoll_event got[8];
	int k = epoll_wait(ep, got, 8, 1000);
	unsigned long long sum = 0;
	for (int i = 0; i < k; i++)
		sum += got[i].data.u64;
	printf("epoll events %d, data sum %llx\n", k, sum);

	// An alarm interrupts a process blocked in select (EINTR, early).
	struct sigaction sa = {0};
	sa.sa_handler = onalarm;
	sigaction(SIGALRM, &sa, NULL);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	read(p[0], big, sizeof big); // drain: nothing left to read
	double w0 = secs(CLOCK_MONOTONIC);
	alarm(1);
	struct timeval five = {5, 0};
	show("select interrupted by alarm", select(p[0] + 1, &rd, NULL, NULL, &five));
	printf("interrupted within 3 s: %d\n", secs(CLOCK_MONOTONIC) - w0 < 3);

	unlink(l);
	unlink(f);
	rmdir(dir);
	return 0;
}
