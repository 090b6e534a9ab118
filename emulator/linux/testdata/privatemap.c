// Private read-only mappings of a program file, which the emulator serves
// from one frame per page of an image file shared by every process: a
// process that makes its mapping writable and writes it sees its writes,
// and every other mapping (inherited, earlier or later, in the same
// process or another) keeps seeing the file. Prints what it sees; the
// test compares with qemu-riscv64 (the host kernel).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN 8192

static char orig[LEN];

static int same(const char *m) { return memcmp(m, orig, LEN) == 0; }

static char *map(int fd, int prot) {
	char *m = mmap(NULL, LEN, prot, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		_exit(1);
	}
	return m;
}

int main(void) {
	int fd = open("/bin/sh", O_RDONLY);
	if (fd < 0 || pread(fd, orig, LEN, 0) != LEN) {
		perror("/bin/sh");
		return 1;
	}
	char *a = map(fd, PROT_READ);
	char *a2 = map(fd, PROT_READ | PROT_EXEC);
	printf("mappings see the file: %d %d\n", same(a), same(a2));

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		// Read first: pages are populated at first touch, and the
		// frames shared are those of read-only mappings.
		char *b = map(fd, PROT_READ);
		printf("child's mapping sees the file: %d\n", same(b));
		mprotect(b, LEN, PROT_READ | PROT_WRITE);
		memset(b + 100, 'x', 5000);
		mprotect(a, LEN, PROT_READ | PROT_WRITE);
		memset(a + 4000, 'y', 200);
		printf("child sees its writes: %d %d\n", b[100] == 'x' && b[5099] == 'x', a[4000] == 'y' && a[4199] == 'y');
		char *c = map(fd, PROT_READ);
		printf("child's new mapping sees the file: %d %d\n", same(c), same(a2));
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent's mappings unchanged: %d %d\n", same(a), same(a2));

	char *d = map(fd, PROT_READ);
	printf("another mapping sees the file: %d\n", same(d));
	mprotect(d, LEN, PROT_READ | PROT_WRITE);
	d[0] ^= 0xff;
	d[LEN - 1] ^= 0xff;
	char *e = map(fd, PROT_READ);
	printf("after a write, other mappings see the file: %d %d %d\n", same(e), same(a), !same(d));
	madvise(d, LEN, MADV_DONTNEED);
	printf("MADV_DONTNEED brings the file back: %d\n", same(d));
	// The only mapping of a page writes it, goes away, and the page is
	// mapped again.
	char other[LEN];
	if (pread(fd, other, LEN, 4 * LEN) != LEN) {
		perror("pread");
		return 1;
	}
	char *g = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 4 * LEN);
	printf("a lone mapping sees the file: %d\n", memcmp(g, other, LEN) == 0);
	mprotect(g, LEN, PROT_READ | PROT_WRITE);
	memset(g, 'z', LEN);
	munmap(g, LEN);
	g = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 4 * LEN);
	printf("mapped again after its write: %d\n", memcmp(g, other, LEN) == 0);
	// The kernel writing into a private mapping (read(2)) copies too.
	lseek(fd, 0, SEEK_SET);
	char *f = map(fd, PROT_READ | PROT_WRITE);
	int zero = open("/dev/zero", O_RDONLY);
	read(zero, f + 10, 20);
	printf("read(2) into a mapping stays private: %d %d\n", f[10] == 0 && f[29] == 0, same(map(fd, PROT_READ)));
	return 0;
}
