// Credentials over AF_UNIX: SO_PEERCRED of socket pairs, connected and
// unconnected sockets; SO_PASSCRED and SCM_CREDENTIALS (attached by the
// kernel or given by the sender, checked, truncated, next to SCM_RIGHTS);
// a stream read never crossing a change of sender; sender addresses from
// recvfrom/recvmsg; autobind; the other SOL_SOCKET options and
// SO_RCVTIMEO. Pids are printed as who they are, not as numbers; the test
// compares with qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "show.h"

static pid_t child;
// namedLen is the address length of the bound datagram sockets' names,
// which hold the pid.
static socklen_t namedLen = 1000;

static const char *who(pid_t pid) {
	if (pid == 0)
		return "none";
	if (pid == getpid())
		return "self";
	if (pid == child)
		return "child";
	return "other";
}

static void peercred(const char *what, int s) {
	struct ucred c;
	socklen_t len = sizeof c;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) {
		show(what, -1);
		return;
	}
	printf("%s: pid %s uid %d gid %d len %u\n", what, who(c.pid), (int)c.uid, (int)c.gid, len);
}

static void passcred(int s) {
	int on = 1;
	show("SO_PASSCRED on", setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
}

// sendcred sends data, with the given credentials when c is set.
static long sendcred(int s, const char *data, struct ucred *c, int fd) {
	struct iovec iov = {(void *)data, strlen(data)};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	size_t len = 0;
	if (c) {
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_CREDENTIALS;
		h->cmsg_len = CMSG_LEN(sizeof *c);
		memcpy(CMSG_DATA(h), c, sizeof *c);
		len += CMSG_SPACE(sizeof *c);
		h = (struct cmsghdr *)(u.buf + len);
	}
	if (fd >= 0) {
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof fd);
		memcpy(CMSG_DATA(h), &fd, sizeof fd);
		len += CMSG_SPACE(sizeof fd);
	}
	m.msg_controllen = len;
	if (len == 0)
		m.msg_control = NULL;
	return sendmsg(s, &m, 0);
}

// recvcred reads up to len bytes and prints them, each control message,
// the sender's address and the flags.
static void recvcred(const char *what, int s, size_t len, size_t ctllen, int flags) {
	char data[64] = {0};
	union {
		char buf[256];
		struct cmsghdr align;
	} u;
	struct sockaddr_un from;
	memset(&from, 0, sizeof from);
	struct iovec iov = {data, len};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
	                   .msg_control = ctllen ? u.buf : NULL, .msg_controllen = ctllen};
	long n = recvmsg(s, &m, flags);
	if (n < 0) {
		show(what, n);
		return;
	}
	printf("%s: %ld bytes \"%s\", namelen %s", what, n, data,
	       m.msg_namelen == 0 ? "0" : m.msg_namelen == namedLen ? "of the named socket" : "other");
	if (m.msg_namelen > 2)
		printf(" name %s%s", from.sun_path[0] ? "" : "@", from.sun_path[0] ? from.sun_path : "(abstract)");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof uc);
			printf(", creds pid %s uid %d gid %d", who(uc.pid), (int)uc.uid, (int)uc.gid);
		} else if (c->cmsg_type == SCM_CREDENTIALS) {
			printf(", creds cut to %zu", (size_t)c->cmsg_len);
		} else if (c->cmsg_type == SCM_RIGHTS) {
			int fd;
			memcpy(&fd, CMSG_DATA(c), sizeof fd);
			char peek[8] = {0};
			pread(fd, peek, 5, 0);
			printf(", fd reading \"%s\"", peek);
			close(fd);
		}
	}
	printf(", ctrunc %d, controllen %zu\n", (m.msg_flags & MSG_CTRUNC) != 0, (size_t)m.msg_controllen);
}

static void intopt(const char *what, int s, int opt) {
	int v = -7;
	socklen_t len = sizeof v;
	long r = getsockopt(s, SOL_SOCKET, opt, &v, &len);
	if (r < 0)
		show(what, r);
	else
		printf("%s: %d (len %u)\n", what, v, len);
}

static void setint(const char *what, int s, int opt, int v) {
	show(what, setsockopt(s, SOL_SOCKET, opt, &v, sizeof v));
}

static void timeo(const char *what, int s, int opt) {
	struct timeval tv = {-1, -1};
	socklen_t len = sizeof tv;
	long r = getsockopt(s, SOL_SOCKET, opt, &tv, &len);
	if (r < 0)
		show(what, r);
	else
		printf("%s: %ld.%06ld (len %u)\n", what, (long)tv.tv_sec, (long)tv.tv_usec, len);
}

static void settimeo(const char *what, int s, int opt, long sec, long usec) {
	struct timeval tv = {sec, usec};
	show(what, setsockopt(s, SOL_SOCKET, opt, &tv, sizeof tv));
}

static void handler(int sig) { (void)sig; }

int main(void) {
	int sp[2];
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct ucred mine = {getpid(), uid, gid};

	// Peer credentials and options of a socket pair.
	show("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	peercred("pair peercred", sp[0]);
	{
		struct ucred c;
		socklen_t len = 4;
		long r = getsockopt(sp[0], SOL_SOCKET, SO_PEERCRED, &c, &len);
		printf("peercred short: %ld len %u pid %s\n", r, len, who(c.pid));
	}
	intopt("SO_PASSCRED", sp[0], SO_PASSCRED);
	intopt("SO_TYPE", sp[0], SO_TYPE);
	intopt("SO_DOMAIN", sp[0], SO_DOMAIN);
	intopt("SO_PROTOCOL", sp[0], SO_PROTOCOL);
	intopt("SO_ACCEPTCONN", sp[0], SO_ACCEPTCONN);
	intopt("SO_RCVLOWAT", sp[0], SO_RCVLOWAT);
	intopt("SO_SNDBUF", sp[0], SO_SNDBUF);
	setint("SO_SNDBUF 1", sp[0], SO_SNDBUF, 1);
	intopt("SO_SNDBUF", sp[0], SO_SNDBUF);
	setint("SO_SNDBUF 10000", sp[0], SO_SNDBUF, 10000);
	intopt("SO_SNDBUF", sp[0], SO_SNDBUF);
	setint("SO_RCVBUF 1", sp[0], SO_RCVBUF, 1);
	intopt("SO_RCVBUF", sp[0], SO_RCVBUF);
	setint("SO_RCVBUF 100000", sp[0], SO_RCVBUF, 100000);
	intopt("SO_RCVBUF", sp[0], SO_RCVBUF);
	setint("SO_REUSEADDR", sp[0], SO_REUSEADDR, 5);
	intopt("SO_REUSEADDR", sp[0], SO_REUSEADDR);
	setint("SO_KEEPALIVE", sp[0], SO_KEEPALIVE, 1);
	intopt("SO_KEEPALIVE", sp[0], SO_KEEPALIVE);
	setint("SO_TYPE set", sp[0], SO_TYPE, 1);
	setint("unknown option", sp[0], 1000, 1);
	intopt("unknown get", sp[0], 1000);
	{
		int v = 1;
		show("SOL_TCP level set", setsockopt(sp[0], 6, 1, &v, sizeof v));
		short sv = 1;
		show("short optlen", setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &sv, sizeof sv));
	}
	{
		struct linger l = {1, 7}, g = {0, 0};
		socklen_t len = sizeof g;
		show("SO_LINGER", setsockopt(sp[0], SOL_SOCKET, SO_LINGER, &l, sizeof l));
		getsockopt(sp[0], SOL_SOCKET, SO_LINGER, &g, &len);
		printf("SO_LINGER: %d %d\n", g.l_onoff, g.l_linger);
	}
	close(sp[0]);
	close(sp[1]);

	// A socket with no peer.
	int lone = socket(AF_UNIX, SOCK_STREAM, 0);
	peercred("unconnected peercred", lone);
	close(lone);

	// Stream: credentials attached when the receiver asks, merged while
	// the sender stays the same, cut where it changes.
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	show("send before passcred", write(sp[0], "early", 5));
	passcred(sp[1]);
	intopt("SO_PASSCRED", sp[1], SO_PASSCRED);
	recvcred("early", sp[1], 64, 256, 0);
	write(sp[0], "one", 3);
	write(sp[0], "two", 3);
	recvcred("merged", sp[1], 64, 256, 0);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		write(sp[0], "kid", 3);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	write(sp[0], "dad", 3);
	recvcred("from child", sp[1], 64, 256, 0);
	recvcred("from parent", sp[1], 64, 256, 0);
	// Given credentials.
	show("send own creds", sendcred(sp[0], "given", &mine, -1));
	recvcred("given", sp[1], 64, 256, 0);
	struct ucred other = {child, 5, 7};
	show("send reaped pid", sendcred(sp[0], "x", &other, -1));
	other.pid = getpid();
	show("send other ids", sendcred(sp[0], "ids", &other, -1));
	recvcred("other ids", sp[1], 64, 256, 0);
	struct ucred bad = {getpid(), (uid_t)-1, gid};
	show("send invalid uid", sendcred(sp[0], "x", &bad, -1));
	// Credentials and a descriptor together; truncated control buffers.
	char path[64];
	snprintf(path, sizeof path, "/tmp/scmcreds-fd-%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "fdata", 5);
	unlink(path);
	show("send creds+fd", sendcred(sp[0], "both", &mine, fd));
	close(fd);
	recvcred("both", sp[1], 64, 256, 0);
	write(sp[0], "cut", 3);
	recvcred("header only", sp[1], 64, 16, 0);
	write(sp[0], "none", 4);
	recvcred("no control", sp[1], 64, 0, 0);
	write(sp[0], "peek", 4);
	recvcred("peeked", sp[1], 64, 256, MSG_PEEK);
	recvcred("after peek", sp[1], 64, 256, 0);
	fflush(stdout);
	// As an unprivileged user, only one's own credentials may be given.
	child = fork();
	if (child == 0) {
		if (setgid(1000) < 0 || setuid(1000) < 0)
			_exit(2);
		struct ucred me = {getpid(), 1000, 1000}, root = {getpid(), 0, 1000}, pid1 = {getppid(), 1000, 1000};
		show("child own", sendcred(sp[0], "me", &me, -1));
		show("child root uid", sendcred(sp[0], "x", &root, -1));
		show("child parent pid", sendcred(sp[0], "x", &pid1, -1));
		_exit(0);
	}
	waitpid(child, NULL, 0);
	recvcred("child's", sp[1], 64, 256, 0);
	close(sp[0]);
	close(sp[1]);

	// Listening and connected sockets: peer credentials and addresses.
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/tmp/scmcreds-%d", getpid());
	unlink(a.sun_path);
	bind(l, (struct sockaddr *)&a, sizeof a);
	peercred("before listen", l);
	listen(l, 4);
	peercred("listener", l);
	intopt("SO_ACCEPTCONN", l, SO_ACCEPTCONN);
	passcred(l);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		connect(c, (struct sockaddr *)&a, sizeof a);
		peercred("client peercred", c);
		write(c, "hello", 5);
		char buf[16] = {0};
		struct sockaddr_un from;
		socklen_t flen = sizeof from;
		long n = recvfrom(c, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		printf("client got %ld \"%s\" from %s (len is the path's with its NUL: %d)\n", n, buf,
		       strcmp(from.sun_path, a.sun_path) == 0 ? "the listener's path" : from.sun_path,
		       flen == offsetof(struct sockaddr_un, sun_path) + strlen(a.sun_path) + 1);
		fflush(stdout);
		_exit(0);
	}
	int c = accept(l, NULL, NULL);
	peercred("accepted peercred", c);
	intopt("accepted SO_PASSCRED", c, SO_PASSCRED);
	recvcred("accepted", c, 64, 256, 0);
	write(c, "reply", 5);
	waitpid(child, NULL, 0);
	close(c);
	close(l);
	unlink(a.sun_path);

	// Datagrams: credentials per message, sender addresses, autobind.
	int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0), d3 = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un b1 = {.sun_family = AF_UNIX}, b2 = {.sun_family = AF_UNIX};
	socklen_t blen = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(b1.sun_path + 1, 100, "scmcreds-%d-1", getpid());
	show("bind d1", bind(d1, (struct sockaddr *)&b1, blen));
	socklen_t blen2 = offsetof(struct sockaddr_un, sun_path) + 1 + snprintf(b2.sun_path + 1, 100, "scmcreds-%d-2", getpid());
	show("bind d2", bind(d2, (struct sockaddr *)&b2, blen2));
	namedLen = blen2;
	passcred(d1);
	show("sendto from d2", sendto(d2, "named", 5, 0, (struct sockaddr *)&b1, blen));
	show("sendto from d3", sendto(d3, "unnamed", 7, 0, (struct sockaddr *)&b1, blen));
	recvcred("dgram named", d1, 64, 256, 0);
	recvcred("dgram unnamed", d1, 64, 256, 0);
	passcred(d3);
	show("sendto from d3 passcred", sendto(d3, "auto", 4, 0, (struct sockaddr *)&b1, blen));
	recvcred("dgram autobound", d1, 64, 256, 0);
	{
		struct sockaddr_un n;
		socklen_t nlen = sizeof n;
		getsockname(d3, (struct sockaddr *)&n, &nlen);
		printf("d3 name: len %u abstract %d\n", nlen, n.sun_path[0] == 0);
	}
	{
		char buf[16] = {0};
		struct sockaddr_un from;
		socklen_t flen = sizeof from;
		sendto(d2, "rf", 2, 0, (struct sockaddr *)&b1, blen);
		long n = recvfrom(d1, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
		printf("recvfrom: %ld \"%s\" matches d2 %d\n", n, buf, flen == blen2 && memcmp(&from, &b2, blen2) == 0);
	}
	int d4 = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un fam = {.sun_family = AF_UNIX};
	show("bind family only", bind(d4, (struct sockaddr *)&fam, offsetof(struct sockaddr_un, sun_path)));
	{
		struct sockaddr_un n;
		socklen_t nlen = sizeof n;
		getsockname(d4, (struct sockaddr *)&n, &nlen);
		printf("d4 name: len %u abstract %d\n", nlen, n.sun_path[0] == 0);
	}
	show("stream sendto", sendto(socket(AF_UNIX, SOCK_STREAM, 0), "x", 1, 0, (struct sockaddr *)&b1, blen));

	// SO_RCVTIMEO: a blocking read gives up with EAGAIN; a negative
	// timeout makes it fail at once; a signal interrupts it with EINTR.
	timeo("SO_RCVTIMEO", d1, SO_RCVTIMEO);
	settimeo("SO_RCVTIMEO 0.2", d1, SO_RCVTIMEO, 0, 200000);
	timeo("SO_RCVTIMEO", d1, SO_RCVTIMEO);
	settimeo("SO_RCVTIMEO bad usec", d1, SO_RCVTIMEO, 0, 1000000);
	struct timespec t0, t1;
	char buf[8];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	show("read with timeout", read(d1, buf, sizeof buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("waited about the timeout: %d\n", ms >= 150 && ms < 2000);
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
	sigaction(SIGALRM, &sa, NULL);
	settimeo("SO_RCVTIMEO 5", d1, SO_RCVTIMEO, 5, 0);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
	show("read interrupted", read(d1, buf, sizeof buf));
	settimeo("SO_RCVTIMEO -1", d1, SO_RCVTIMEO, -1, 0);
	timeo("SO_RCVTIMEO", d1, SO_RCVTIMEO);
	show("read negative timeout", read(d1, buf, sizeof buf));
	return 0;
}
