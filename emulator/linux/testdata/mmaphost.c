// MAP_SHARED writable mappings of a file in a host directory (argv[1]; a
// new directory in /tmp without one): stores seen by read(2), by another
// process and by a fresh open; write(2) seen through the mapping; msync;
// SIGBUS past a shrunk end and zeros when it grows again. Leaves the file
// "shared" for the test to read on the host. Compared with qemu-riscv64.
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "show.h"

static sigjmp_buf env;
static void onbus(int sig) { siglongjmp(env, sig); }

static int touch(volatile char *p) {
	int sig = sigsetjmp(env, 1);
	if (sig)
		return sig == SIGBUS ? -2 : -3;
	return *p;
}

int main(int argc, char **argv) {
	char tmpl[] = "/tmp/mmaphost.XXXXXX";
	const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
	char path[256], c;
	snprintf(path, sizeof path, "%s/shared", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char page[4096];
	memset(page, 'a', sizeof page);
	for (int i = 0; i < 3; i++)
		write(fd, page, sizeof page);
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap: %s\n", p == MAP_FAILED ? "failed" : "ok");
	p[0] = 'X';
	p[5000] = 'Y';
	pread(fd, &c, 1, 0);
	printf("read sees store: %c\n", c);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		p[9000] = 'Z';
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("child's store: %c\n", p[9000]);
	pwrite(fd, "W", 1, 100);
	printf("mapping sees write: %c\n", p[100]);
	show("msync", msync(p, 3 * 4096, MS_SYNC));
	int fd2 = open(path, O_RDONLY);
	pread(fd2, &c, 1, 5000);
	printf("fresh open sees: %c\n", c);
	close(fd2);
	signal(SIGBUS, onbus);
	show("shrink", ftruncate(fd, 4096 + 10));
	printf("past the end: %d\n", touch(p + 8192));
	printf("in the last page: %c, past its end %d\n", touch(p + 4096 + 5), touch(p + 4096 + 20));
	show("grow", ftruncate(fd, 3 * 4096));
	printf("grown again: %d %d\n", touch(p + 8192), touch(p + 9000));
	p[4097] = 'Q';
	show("munmap", munmap(p, 3 * 4096));
	pread(fd, &c, 1, 4097);
	printf("after munmap: %c\n", c);
	close(fd);
	if (argc < 2) {
		unlink(path);
		rmdir(dir);
	}
	return 0;
}
