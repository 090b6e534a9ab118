// Terminal flow control on a pty: tcflow(TCOOFF/TCOON) and IXON's ^S/^Q
// suspend and resume the slave's output; tcflow(TCION) sends VSTART to
// the master; breaks are accepted; bad actions are EINVAL.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "show.h"

int main(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_NONBLOCK);
	struct termios t;
	tcgetattr(s, &t);
	cfmakeraw(&t);
	t.c_iflag |= IXON;
	tcsetattr(s, TCSANOW, &t);
	char buf[16];

	show("tcflow TCOOFF", tcflow(s, TCOOFF));
	show("write while suspended", write(s, "a", 1));
	show("tcflow TCOON", tcflow(s, TCOON));
	show("write resumed", write(s, "b", 1));
	show("master reads", read(m, buf, sizeof buf));
	show("tcflow bad action", tcflow(s, 7));
	show("tcsendbreak", tcsendbreak(s, 0));
	show("tcsendbreak with duration", tcsendbreak(s, 1));

	// ^S typed at the terminal suspends output, ^Q resumes it.
	write(m, "\x13", 1);
	usleep(100000);
	show("write after ^S", write(s, "c", 1));
	write(m, "\x11", 1);
	usleep(100000);
	show("write after ^Q", write(s, "d", 1));
	show("master reads", read(m, buf, sizeof buf));
	show("slave read nothing (flow characters consumed)", read(s, buf, sizeof buf));

	// TCION transmits VSTART to the other side.
	show("tcflow TCION", tcflow(s, TCION));
	long n = read(m, buf, sizeof buf);
	printf("master got %ld byte(s), VSTART: %d\n", n, n == 1 && buf[0] == t.c_cc[VSTART]);
	return 0;
}
