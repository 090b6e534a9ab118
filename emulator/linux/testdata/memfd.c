// memfd_create and file seals: F_ADD_SEALS/F_GET_SEALS, what each seal
// forbids (writes, growing, shrinking, writable shared mappings), EBUSY
// while a writable mapping exists, F_SEAL_SEAL, and a memfd without
// MFD_ALLOW_SEALING. The test compares with qemu-riscv64.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "show.h"

int main(void) {
	int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
	show("seals at start", fcntl(fd, F_GET_SEALS));
	show("write", write(fd, "12345678", 8));
	show("add shrink", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	show("shrink", ftruncate(fd, 4));
	show("grow", ftruncate(fd, 16));
	show("add grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	show("grow now", ftruncate(fd, 32));
	show("write past the end", pwrite(fd, "x", 1, 100));
	show("write inside", pwrite(fd, "x", 1, 2));
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("add write while mapped writable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(m, 4096);
	show("add write", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	show("write sealed", pwrite(fd, "x", 1, 2));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("writable shared mapping", m == MAP_FAILED ? -1 : 0);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	show("read-only shared mapping", m == MAP_FAILED ? -1 : 0);
	show("add seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	show("seals", fcntl(fd, F_GET_SEALS));
	show("add after seal", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	show("bad seal", fcntl(fd, F_ADD_SEALS, 0x100));

	int plain = memfd_create("plain", 0);
	show("plain seals", fcntl(plain, F_GET_SEALS));
	show("plain add", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
	int p[2];
	pipe(p);
	show("pipe seals", fcntl(p[0], F_GET_SEALS));
	return 0;
}
