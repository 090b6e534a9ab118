// MAP_SHARED file mappings: coherent with read/write, across fork and
// across independent mappings in two processes, SIGBUS past the end of
// the file, and the errors. Prints what it sees; the test compares with
// qemu-riscv64 (the host kernel).
#define _GNU_SOURCE
#include <errno.h>
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


int main(void) {
	char path[] = "/tmp/mmapsharedXXXXXX";
	int fd = mkstemp(path);
	ftruncate(fd, 8192);
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	// Stores through the mapping reach the file.
	memcpy(m + 4090, "across-pages", 12);
	char buf[32] = {0};
	pread(fd, buf, 12, 4090);
	printf("pread sees store: %s\n", buf);
	// write(2) reaches the mapping.
	pwrite(fd, "written", 7, 100);
	printf("mapping sees pwrite: %.7s\n", m + 100);
	show("msync", msync(m, 8192, MS_SYNC));
	show("msync bad flags", msync(m, 8192, MS_SYNC | MS_ASYNC));

	// A forked child's stores reach the parent through the inherited
	// mapping; an independent mapping in the child too.
	pid_t pid = fork();
	if (pid == 0) {
		strcpy(m + 200, "from-child");
		int fd2 = open(path, O_RDWR);
		char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 4096);
		strcpy(m2 + 10, "second-map");
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent sees child: %s %s\n", m + 200, m + 4096 + 10);

	// A private mapping does not write through.
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	strcpy(p + 300, "private");
	pread(fd, buf, 7, 300);
	printf("private store stays private: %d\n", memcmp(buf, "private", 7) != 0);
	// ...but sees the file until it writes the page (Linux keeps the
	// page cache page until then; here the page was copied at first touch,
	// which was the store).

	// Shrinking the file: the page past the end faults with SIGBUS.
	ftruncate(fd, 4096);
	signal(SIGBUS, onbus);
	int sig = sigsetjmp(env, 1);
	if (sig == 0) {
		volatile char c = m[4096 + 5];
		(void)c;
		printf("no fault past the end\n");
	} else {
		printf("touch past the end: signal %d\n", sig);
	}
	// Growing it again: the tail reads zeros, not what was there.
	ftruncate(fd, 8192);
	printf("grown page reads zero: %d\n", m[4096 + 10] == 0);

	// Errors.
	int ro = open(path, O_RDONLY);
	void *r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	show("shared writable on read-only fd", r == MAP_FAILED ? -1 : 0);
	r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	show("shared read-only on read-only fd", r == MAP_FAILED ? -1 : 0);
	printf("read-only shared sees content: %.7s\n", (char *)r + 100);

	// memfd: anonymous files share the same way.
	int mfd = memfd_create("x", 0);
	ftruncate(mfd, 4096);
	char *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	char *b = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
	strcpy(a, "memfd-shared");
	printf("second memfd mapping: %s\n", b);
	unlink(path);
	return 0;
}
