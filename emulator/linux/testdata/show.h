// show prints a system call's result the way the C programs of this
// directory report them to be compared with qemu-riscv64: the value, or -1
// and the errno's name. Include it after defining _GNU_SOURCE.
#include <errno.h>
#include <stdio.h>
#include <string.h>

static void show(const char *what, long r) {
	if (r < 0)
		printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s: %ld\n", what, r);
}
