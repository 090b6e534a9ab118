// TCP and UDP over loopback: a server and a client process, blocking and
// non-blocking connects, accept's peer address, poll readiness, MSG_PEEK,
// shutdown and end of stream, UDP datagrams with their source, IPv6 and
// IPv4-mapped addresses, the errors (refused, in use, not connected) and
// socket options. Ports are ephemeral; the program prints relations, not
// numbers. The test compares with qemu-riscv64 (the host's loopback).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static struct sockaddr_in lo(int port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int port_of(int s) {
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

static void intopt(const char *what, int s, int level, int name) {
	int v = -7;
	socklen_t len = sizeof v;
	long r = getsockopt(s, level, name, &v, &len);
	if (r < 0)
		show(what, r);
	else
		printf("%s: %d\n", what, v);
}

static void pollshow(const char *what, int s) {
	struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT | POLLRDHUP};
	poll(&p, 1, 0);
	printf("%s: in %d out %d hup %d rdhup %d err %d\n", what, !!(p.revents & POLLIN), !!(p.revents & POLLOUT),
	       !!(p.revents & POLLHUP), !!(p.revents & POLLRDHUP), !!(p.revents & POLLERR));
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	// A listening socket on an ephemeral port.
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	printf("socket: %d\n", l >= 0);
	intopt("SO_TYPE", l, SOL_SOCKET, SO_TYPE);
	intopt("SO_DOMAIN", l, SOL_SOCKET, SO_DOMAIN);
	intopt("SO_PROTOCOL", l, SOL_SOCKET, SO_PROTOCOL);
	int one = 1;
	show("SO_REUSEADDR", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	intopt("SO_REUSEADDR", l, SOL_SOCKET, SO_REUSEADDR);
	struct sockaddr_in a = lo(0);
	show("bind", bind(l, (struct sockaddr *)&a, sizeof a));
	show("bind again", bind(l, (struct sockaddr *)&a, sizeof a));
	int port = port_of(l);
	printf("ephemeral port: %d\n", port >= 32768 && port <= 60999);
	show("listen", listen(l, 8));
	intopt("SO_ACCEPTCONN", l, SOL_SOCKET, SO_ACCEPTCONN);
	pollshow("listener idle", l);
	int busy = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(port);
	show("bind in use", bind(busy, (struct sockaddr *)&a, sizeof a));
	close(busy);

	fflush(stdout);
	// The parent closes its end, then tells the child through closed.
	int closed[2];
	pipe(closed);
	pid_t child = fork();
	if (child == 0) {
		close(closed[1]);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in to = lo(port);
		show("child connect", connect(c, (struct sockaddr *)&to, sizeof to));
		show("child connect again", connect(c, (struct sockaddr *)&to, sizeof to));
		int v = 1;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
		intopt("child TCP_NODELAY", c, IPPROTO_TCP, TCP_NODELAY);
		show("child send", send(c, "hello", 5, 0));
		char buf[64] = {0};
		long n = recv(c, buf, sizeof buf, MSG_WAITALL);
		printf("child got %ld \"%s\"\n", n, buf);
		n = recv(c, buf, sizeof buf, 0);
		printf("child after shutdown: %ld\n", n);
		read(closed[0], buf, 1);
		show("child send after peer closed", send(c, "x", 1, 0));
		sleep(1);
		show("child send again", send(c, "x", 1, 0));
		fflush(stdout);
		_exit(0);
	}
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;
	int c = accept(l, (struct sockaddr *)&peer, &plen);
	printf("accept: %d, peer is loopback %d, len %u\n", c >= 0, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK), plen);
	struct sockaddr_in name, pname;
	socklen_t nlen = sizeof name, pnlen = sizeof pname;
	getsockname(c, (struct sockaddr *)&name, &nlen);
	getpeername(c, (struct sockaddr *)&pname, &pnlen);
	printf("accepted socket: local port is the listener's %d, peer port matches %d\n", ntohs(name.sin_port) == port,
	       pname.sin_port == peer.sin_port);
	char buf[64] = {0};
	struct pollfd p = {.fd = c, .events = POLLIN};
	poll(&p, 1, 5000);
	long n = recv(c, buf, 2, MSG_PEEK);
	printf("peek: %ld \"%.2s\"\n", n, buf);
	int avail = -1;
	ioctl(c, FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	n = read(c, buf, sizeof buf);
	printf("read: %ld \"%.5s\"\n", n, buf);
	show("send", send(c, "world", 5, 0));
	show("shutdown write", shutdown(c, SHUT_WR));
	pollshow("after own shutdown", c);
	show("send after shutdown", send(c, "x", 1, MSG_NOSIGNAL));
	close(c);
	close(closed[1]);
	int status;
	waitpid(child, &status, 0);
	printf("child exit %d\n", WEXITSTATUS(status));

	// Refused connections, blocking and not.
	int r = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(port);
	close(l);
	show("connect refused", connect(r, (struct sockaddr *)&a, sizeof a));
	close(r);
	r = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	n = connect(r, (struct sockaddr *)&a, sizeof a);
	if (n < 0 && errno == EINPROGRESS) {
		struct pollfd pr = {.fd = r, .events = POLLOUT};
		poll(&pr, 1, 5000);
		printf("nonblocking refused: pollout %d pollerr %d\n", !!(pr.revents & POLLOUT), !!(pr.revents & POLLERR));
	} else {
		show("nonblocking connect refused", n);
	}
	intopt("SO_ERROR", r, SOL_SOCKET, SO_ERROR);
	intopt("SO_ERROR again", r, SOL_SOCKET, SO_ERROR);
	close(r);
	r = socket(AF_INET, SOCK_STREAM, 0);
	show("send unconnected", send(r, "x", 1, 0));
	show("recv unconnected", recv(r, buf, 1, MSG_DONTWAIT));
	struct sockaddr_in g;
	socklen_t glen = sizeof g;
	show("getpeername unconnected", getpeername(r, (struct sockaddr *)&g, &glen));
	close(r);

	// A socket refused once connects when the port listens.
	l = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(0);
	bind(l, (struct sockaddr *)&a, sizeof a);
	a = lo(port_of(l));
	r = socket(AF_INET, SOCK_STREAM, 0);
	show("connect before listen", connect(r, (struct sockaddr *)&a, sizeof a));
	listen(l, 1);
	show("connect after listen", connect(r, (struct sockaddr *)&a, sizeof a));
	c = accept(l, NULL, NULL);
	write(r, "again", 5);
	memset(buf, 0, sizeof buf);
	n = read(c, buf, sizeof buf);
	printf("after reconnecting: %ld \"%s\"\n", n, buf);
	close(c);
	close(r);
	close(l);

	// A non-blocking connect that succeeds.
	l = socket(AF_INET, SOCK_STREAM, 0);
	a = lo(0);
	bind(l, (struct sockaddr *)&a, sizeof a);
	listen(l, 1);
	a = lo(port_of(l));
	r = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	n = connect(r, (struct sockaddr *)&a, sizeof a);
	printf("nonblocking connect: %s\n", n == 0 ? "done" : errno == EINPROGRESS ? "in progress" : "failed");
	struct pollfd pw = {.fd = r, .events = POLLOUT};
	poll(&pw, 1, 5000);
	intopt("SO_ERROR after connect", r, SOL_SOCKET, SO_ERROR);
	c = accept(l, NULL, NULL);
	pollshow("accepted, nothing sent", c);
	close(r);
	struct pollfd pc = {.fd = c, .events = POLLIN};
	poll(&pc, 1, 5000);
	pollshow("peer closed", c);
	n = read(c, buf, sizeof buf);
	printf("read at end: %ld\n", n);
	close(c);
	close(l);

	// UDP.
	int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	a = lo(0);
	bind(u1, (struct sockaddr *)&a, sizeof a);
	struct sockaddr_in to = lo(port_of(u1));
	show("sendto", sendto(u2, "datagram", 8, 0, (struct sockaddr *)&to, sizeof to));
	show("sendto 2", sendto(u2, "second", 6, 0, (struct sockaddr *)&to, sizeof to));
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	memset(buf, 0, sizeof buf);
	n = recvfrom(u1, buf, 4, 0, (struct sockaddr *)&from, &flen);
	printf("recvfrom (cut): %ld \"%.4s\" from u2 %d len %u\n", n, buf, ntohs(from.sin_port) == port_of(u2), flen);
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
	n = recvmsg(u1, &m, 0);
	printf("recvmsg: %ld \"%.6s\" trunc %d namelen %u\n", n, buf, !!(m.msg_flags & MSG_TRUNC), m.msg_namelen);
	show("recv empty", recv(u1, buf, sizeof buf, MSG_DONTWAIT));
	show("send unconnected udp", send(u2, "x", 1, 0));
	show("connect udp", connect(u2, (struct sockaddr *)&to, sizeof to));
	show("send connected udp", send(u2, "conn", 4, 0));
	n = recv(u1, buf, sizeof buf, 0);
	printf("got %ld\n", n);
	close(u1);
	close(u2);

	// The source address a connected UDP socket would use, as glibc's
	// getaddrinfo asks for it: an IPv6 socket connected to an IPv4
	// address (sockaddr_in) reports it IPv4-mapped.
	{
		int u4 = socket(AF_INET, SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
		struct sockaddr_in dst = lo(53);
		show("udp4 connect", connect(u4, (struct sockaddr *)&dst, sizeof dst));
		show("udp6 connect to sockaddr_in", connect(u6, (struct sockaddr *)&dst, sizeof dst));
		struct sockaddr_in6 s6;
		struct sockaddr_in s4;
		socklen_t l4 = sizeof s4, l6 = sizeof s6;
		getsockname(u4, (struct sockaddr *)&s4, &l4);
		getsockname(u6, (struct sockaddr *)&s6, &l6);
		char t4[64], t6[64];
		inet_ntop(AF_INET, &s4.sin_addr, t4, sizeof t4);
		inet_ntop(AF_INET6, &s6.sin6_addr, t6, sizeof t6);
		printf("udp4 source %s (port set %d), udp6 source %s family %d len %u\n", t4, s4.sin_port != 0, t6, s6.sin6_family, l6);
		struct sockaddr_in6 d6 = {.sin6_family = AF_INET6, .sin6_port = htons(53), .sin6_addr = in6addr_loopback};
		int u66 = socket(AF_INET6, SOCK_DGRAM, 0);
		connect(u66, (struct sockaddr *)&d6, sizeof d6);
		l6 = sizeof s6;
		getsockname(u66, (struct sockaddr *)&s6, &l6);
		inet_ntop(AF_INET6, &s6.sin6_addr, t6, sizeof t6);
		printf("udp6 to ::1 source %s\n", t6);
		// glibc reuses the socket: AF_UNSPEC dissolves the association.
		struct sockaddr unspec = {.sa_family = AF_UNSPEC};
		show("udp6 connect AF_UNSPEC", connect(u66, &unspec, sizeof unspec));
		show("udp6 then to sockaddr_in", connect(u66, (struct sockaddr *)&dst, sizeof dst));
		l6 = sizeof s6;
		getsockname(u66, (struct sockaddr *)&s6, &l6);
		inet_ntop(AF_INET6, &s6.sin6_addr, t6, sizeof t6);
		printf("udp6 reconnected source %s\n", t6);
		// Connecting to the unspecified address reaches this host.
		struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_port = htons(53)};
		connect(u66, &unspec, sizeof unspec);
		show("udp6 to 0.0.0.0", connect(u66, (struct sockaddr *)&any4, sizeof any4));
		l6 = sizeof s6;
		getsockname(u66, (struct sockaddr *)&s6, &l6);
		inet_ntop(AF_INET6, &s6.sin6_addr, t6, sizeof t6);
		printf("source for 0.0.0.0 %s\n", t6);
		struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
		connect(u66, &unspec, sizeof unspec);
		show("udp6 to ::", connect(u66, (struct sockaddr *)&any6, sizeof any6));
		struct sockaddr_in6 p6;
		socklen_t pl = sizeof p6;
		getpeername(u66, (struct sockaddr *)&p6, &pl);
		inet_ntop(AF_INET6, &p6.sin6_addr, t6, sizeof t6);
		printf("peer for :: %s\n", t6);
		close(u4);
		close(u6);
		close(u66);
	}

	// IPv6 loopback and an IPv4-mapped peer of a dual-stack socket.
	int l6 = socket(AF_INET6, SOCK_STREAM, 0);
	intopt("IPV6_V6ONLY", l6, IPPROTO_IPV6, IPV6_V6ONLY);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
	show("bind6 any", bind(l6, (struct sockaddr *)&a6, sizeof a6));
	listen(l6, 4);
	struct sockaddr_in6 n6;
	socklen_t n6len = sizeof n6;
	getsockname(l6, (struct sockaddr *)&n6, &n6len);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 t6 = {.sin6_family = AF_INET6, .sin6_port = n6.sin6_port, .sin6_addr = in6addr_loopback};
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in t4 = lo(ntohs(n6.sin6_port));
	// Each connection is accepted before the next is made: the order in
	// which two handshakes reach the accept queue is a race in the
	// emulator's network stack (its goroutines), not a property of it.
	for (int i = 0; i < 2; i++) {
		if (i == 0) {
			show("connect ::1", connect(c6, (struct sockaddr *)&t6, sizeof t6));
		} else {
			show("connect 127.0.0.1 to dual stack", connect(c4, (struct sockaddr *)&t4, sizeof t4));
		}
		struct sockaddr_in6 p6;
		socklen_t p6len = sizeof p6;
		int s = accept(l6, (struct sockaddr *)&p6, &p6len);
		char text[64];
		inet_ntop(AF_INET6, &p6.sin6_addr, text, sizeof text);
		printf("accepted from %s (len %u)\n", text, p6len);
		close(s);
	}
	close(c6);
	close(c4);
	close(l6);

	// Options.
	int s = socket(AF_INET, SOCK_STREAM, 0);
	intopt("TCP_NODELAY default", s, IPPROTO_TCP, TCP_NODELAY);
	show("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
	intopt("SO_KEEPALIVE", s, SOL_SOCKET, SO_KEEPALIVE);
	int idle = 30;
	show("TCP_KEEPIDLE", setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	intopt("TCP_KEEPIDLE", s, IPPROTO_TCP, TCP_KEEPIDLE);
	int zero = 0;
	show("TCP_KEEPCNT 0", setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &zero, sizeof zero));
	intopt("IP_TTL", s, IPPROTO_IP, IP_TTL);
	int ttl = 10;
	show("IP_TTL 10", setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl));
	intopt("IP_TTL", s, IPPROTO_IP, IP_TTL);
	intopt("unknown TCP option", s, IPPROTO_TCP, 999);
	intopt("IPV6 option on IPv4", s, IPPROTO_IPV6, IPV6_V6ONLY);
	close(s);
	show("TCP datagram", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	int sp[2];
	show("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sp));

	// sendmmsg and recvmmsg (glibc's resolver sends its A and AAAA
	// queries with one sendmmsg), and IP_RECVERR, which it sets first.
	int ur = socket(AF_INET, SOCK_DGRAM, 0), us = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = lo(0);
	bind(ur, (struct sockaddr *)&ua, sizeof ua);
	ua = lo(port_of(ur));
	show("connect udp", connect(us, (struct sockaddr *)&ua, sizeof ua));
	show("IP_RECVERR", setsockopt(us, IPPROTO_IP, IP_RECVERR, &one, sizeof one));
	intopt("IP_RECVERR", us, IPPROTO_IP, IP_RECVERR);
	char *words[] = {"one", "three", "seven"};
	struct iovec siov[3];
	struct mmsghdr mm[4];
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		siov[i] = (struct iovec){.iov_base = words[i], .iov_len = strlen(words[i])};
		mm[i].msg_hdr.msg_iov = &siov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	show("sendmmsg none", sendmmsg(us, mm, 0, 0));
	show("sendmmsg", sendmmsg(us, mm, 3, 0));
	for (int i = 0; i < 3; i++)
		printf("sent %u\n", mm[i].msg_len);
	char rb[4][16];
	struct iovec riov[4];
	struct sockaddr_in froms[4];
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 4; i++) {
		riov[i] = (struct iovec){.iov_base = rb[i], .iov_len = sizeof rb[i]};
		mm[i].msg_hdr = (struct msghdr){.msg_iov = &riov[i], .msg_iovlen = 1, .msg_name = &froms[i], .msg_namelen = sizeof froms[i]};
	}
	long got = recvmmsg(ur, mm, 4, MSG_WAITFORONE, NULL);
	show("recvmmsg", got);
	for (int i = 0; i < got; i++)
		printf("received %.*s (%u) from the sender %d\n", (int)mm[i].msg_len, rb[i], mm[i].msg_len,
		       froms[i].sin_port == htons(port_of(us)) && mm[i].msg_hdr.msg_namelen == sizeof froms[i]);
	show("recvmmsg nothing", recvmmsg(ur, mm, 4, MSG_DONTWAIT, NULL));
	close(ur);
	close(us);
	return 0;
}
