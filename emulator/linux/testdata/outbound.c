// Connections from the guest to servers on the host: outbound.c HOST
// COUNT-PORT CLOSED-PORT UDP-PORT SINK-PORT. The count server reads to
// the end and answers how many bytes it read; the UDP server echoes each
// datagram; the sink counts what each connection sends (the test checks
// it after the run). Under qemu-riscv64 HOST is 127.0.0.1, in the
// emulator the gateway 10.0.2.2: the program prints what does not depend
// on it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static const char *host;

static struct sockaddr_in addr(int port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, host, &a.sin_addr);
	return a;
}

static int dial(int port) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = addr(port);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

static long writeall(int s, const char *b, long n) {
	long done = 0;
	while (done < n) {
		long w = write(s, b + done, n - done);
		if (w < 0)
			return -1;
		done += w;
	}
	return done;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: outbound HOST COUNT-PORT CLOSED-PORT UDP-PORT SINK-PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	host = argv[1];
	int countPort = atoi(argv[2]), closedPort = atoi(argv[3]), udpPort = atoi(argv[4]), sinkPort = atoi(argv[5]);

	// 3 MiB to the count server, half closed, its answer read to the end.
	int s = dial(countPort);
	show("connect", s >= 0 ? 0 : -1);
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	getpeername(s, (struct sockaddr *)&peer, &len);
	printf("peer port is the server's: %d\n", ntohs(peer.sin_port) == countPort);
	struct sockaddr_in self;
	len = sizeof self;
	getsockname(s, (struct sockaddr *)&self, &len);
	printf("local family %d, port set %d\n", self.sin_family, ntohs(self.sin_port) != 0);
	long n = 3 << 20;
	char *buf = malloc(n);
	for (long i = 0; i < n; i++)
		buf[i] = i * 7;
	show("write 3 MiB", writeall(s, buf, n));
	show("shutdown", shutdown(s, SHUT_WR));
	char answer[64] = {0};
	long got = 0, r;
	while ((r = read(s, answer + got, sizeof answer - 1 - got)) > 0)
		got += r;
	printf("answer: %s", answer);
	show("read at end", r);
	close(s);

	// Refused at once.
	show("connect closed port", dial(closedPort));

	// Non-blocking: in progress, then writable with no error.
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = addr(countPort);
	show("non-blocking connect", connect(s, (struct sockaddr *)&a, sizeof a));
	struct pollfd p = {.fd = s, .events = POLLOUT};
	show("poll", poll(&p, 1, 30000));
	printf("writable %d\n", !!(p.revents & POLLOUT));
	int err = -1;
	len = sizeof err;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	printf("SO_ERROR %d\n", err);
	close(s);

	// UDP: a connected and an unconnected socket, each datagram back
	// from the server's port.
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	a = addr(udpPort);
	show("sendto", sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof a));
	char d[64];
	struct sockaddr_in from;
	len = sizeof from;
	r = recvfrom(u, d, sizeof d, 0, (struct sockaddr *)&from, &len);
	printf("recvfrom %ld %.*s from the server's port %d\n", r, (int)(r > 0 ? r : 0), d, ntohs(from.sin_port) == udpPort);
	show("connect udp", connect(u, (struct sockaddr *)&a, sizeof a));
	show("send", send(u, "second datagram", 15, 0));
	r = recv(u, d, sizeof d, 0);
	printf("recv %ld %.*s\n", r, (int)(r > 0 ? r : 0), d);
	close(u);

	// A child writes 2 MiB to the sink and exits at once: its socket
	// delivers the data after the process is gone.
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		int k = dial(sinkPort);
		if (k < 0 || writeall(k, buf, 2 << 20) < 0)
			_exit(1);
		_exit(0);
	}
	int status;
	waitpid(child, &status, 0);
	printf("child exit %d\n", WEXITSTATUS(status));
	return 0;
}
