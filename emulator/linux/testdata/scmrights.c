// SCM_RIGHTS over AF_UNIX: descriptors sent with stream data and with
// datagrams, to the same process and across fork, how reads split around
// them, truncation, closing on read(2), MSG_CMSG_CLOEXEC and the errors.
// Prints what it sees; the test compares with qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static long sendfds(int s, const char *data, int *fds, int n) {
	struct iovec iov = {(void *)data, strlen(data)};
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n > 0) {
		m.msg_control = ctl;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(s, &m, 0);
}

// recvfds reads up to len bytes and prints the data, the descriptors'
// count and what the first one reads, and the flags.
static void recvfds(const char *what, int s, size_t len, size_t ctllen, int flags) {
	char data[64] = {0}, ctl[256];
	struct iovec iov = {data, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctllen ? ctl : NULL, .msg_controllen = ctllen};
	long n = recvmsg(s, &m, flags);
	if (n < 0) {
		show(what, n);
		return;
	}
	int nfd = 0, first = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfd += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(&first, CMSG_DATA(c), sizeof(int));
		}
	}
	char peek[16] = {0};
	int cloexec = -1;
	if (first >= 0) {
		pread(first, peek, 5, 0);
		cloexec = (fcntl(first, F_GETFD) & FD_CLOEXEC) != 0;
	}
	printf("%s: %ld bytes \"%s\", %d fds (first reads \"%s\", cloexec %d), ctrunc %d, controllen %zu\n", what, n, data,
	       nfd, peek, cloexec, (m.msg_flags & MSG_CTRUNC) != 0, (size_t)m.msg_controllen);
}

int main(void) {
	char path[] = "/tmp/scmXXXXXX";
	int f = mkstemp(path);
	write(f, "hello", 5);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int two[2] = {f, f};

	// Stream: plain bytes, then bytes with descriptors, then plain again.
	send(sv[0], "aa", 2, 0);
	show("send with fds", sendfds(sv[0], "bbb", two, 2));
	send(sv[0], "cc", 2, 0);
	recvfds("first read", sv[1], 64, 256, 0);
	recvfds("second read", sv[1], 64, 256, 0);
	// Descriptors read with a partial read; the rest of their bytes come next.
	sendfds(sv[0], "dddd", &f, 1);
	recvfds("partial read", sv[1], 2, 256, 0);
	recvfds("rest", sv[1], 64, 256, 0);
	// No room for the control message: truncated, descriptors closed.
	sendfds(sv[0], "e", two, 2);
	recvfds("no control buffer", sv[1], 64, 0, 0);
	sendfds(sv[0], "f", two, 2);
	recvfds("room for one", sv[1], 64, CMSG_SPACE(sizeof(int)), 0);
	// read(2) drops them.
	sendfds(sv[0], "g", &f, 1);
	char c;
	show("plain read", read(sv[1], &c, 1));
	sendfds(sv[0], "h", &f, 1);
	recvfds("cloexec", sv[1], 64, 256, MSG_CMSG_CLOEXEC);

	// MSG_PEEK leaves the data queued.
	send(sv[0], "peekme", 6, 0);
	char pk[16] = {0};
	show("peek", recv(sv[1], pk, 4, MSG_PEEK));
	printf("peeked \"%s\"\n", pk);
	memset(pk, 0, sizeof pk);
	show("read after peek", recv(sv[1], pk, sizeof pk, 0));
	printf("read \"%s\"\n", pk);
	show("peek empty nonblocking", recv(sv[1], pk, 4, MSG_PEEK | MSG_DONTWAIT));

	// Errors.
	int bad = 999;
	show("bad fd", sendfds(sv[0], "x", &bad, 1));

	// Datagrams carry their own descriptors; across fork.
	int dv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
	pid_t pid = fork();
	if (pid == 0) {
		int p[2];
		pipe(p);
		write(p[1], "piped", 5);
		sendfds(dv[1], "m1", &p[0], 1);
		sendfds(dv[1], "m2", NULL, 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	char dg[8] = {0};
	show("datagram peek", recv(dv[0], dg, sizeof dg, MSG_PEEK));
	printf("peeked \"%s\"\n", dg);
	recvfds("datagram 1", dv[0], 64, 256, 0);
	recvfds("datagram 2", dv[0], 64, 256, 0);
	unlink(path);
	return 0;
}
