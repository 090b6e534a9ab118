// Advisory locks across processes: fcntl record locks (conflicts, F_GETLK,
// splitting, release on close, no inheritance, blocking, EDEADLK), open
// file description locks and flock(2). Output is compared with qemu-riscv64
// on the host kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[64];

static void say(const char *s) { write(1, s, strlen(s)); }

static int lk(int fd, int cmd, int type, off_t start, off_t len) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

static void getlk(int fd, int cmd, off_t start, off_t len, pid_t owner) {
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) != 0) {
		printf("getlk error %d\n", errno);
		return;
	}
	const char *t = fl.l_type == F_UNLCK ? "unlocked" : fl.l_type == F_WRLCK ? "write" : "read";
	printf("getlk %ld+%ld: %s", (long)start, (long)len, t);
	if (fl.l_type != F_UNLCK)
		printf(" %ld+%ld pid %s", (long)fl.l_start, (long)fl.l_len,
		       fl.l_pid == owner ? "owner" : fl.l_pid == -1 ? "-1" : "other");
	printf("\n");
	fflush(stdout);
}

// child runs f in a child process with its own open of the file and waits.
static void child(void (*f)(int)) {
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int fd = open(path, O_RDWR);
		f(fd);
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, NULL, 0);
}

static void c_conflicts(int fd) {
	printf("child setlk 5+10: %d\n", lk(fd, F_SETLK, F_WRLCK, 5, 10) == EAGAIN);
	printf("child setlk 10+10: %d\n", lk(fd, F_SETLK, F_WRLCK, 10, 10));
	getlk(fd, F_GETLK, 5, 10, getppid());
	getlk(fd, F_GETLK, 0, 0, getppid());
}

static void c_split(int fd) {
	getlk(fd, F_GETLK, 0, 100, getppid());
	getlk(fd, F_GETLK, 40, 20, getppid());
	getlk(fd, F_GETLK, 50, 50, getppid());
}

static void c_readers(int fd) {
	printf("child read lock: %d\n", lk(fd, F_SETLK, F_RDLCK, 0, 10));
	printf("child write lock: %d\n", lk(fd, F_SETLK, F_WRLCK, 0, 10) == EAGAIN);
}

static void c_free(int fd) { printf("child lock after parent's close: %d\n", lk(fd, F_SETLK, F_WRLCK, 0, 0)); }

int main(void) {
	snprintf(path, sizeof path, "/tmp/locks-%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "0123456789abcdefghij", 20);

	printf("parent setlk 0+10: %d\n", lk(fd, F_SETLK, F_WRLCK, 0, 10));
	printf("parent overlapping own lock: %d\n", lk(fd, F_SETLK, F_WRLCK, 5, 10));
	lk(fd, F_SETLK, F_UNLCK, 10, 5);
	child(c_conflicts);

	lk(fd, F_SETLK, F_UNLCK, 0, 0);
	lk(fd, F_SETLK, F_WRLCK, 0, 100);
	lk(fd, F_SETLK, F_UNLCK, 40, 20);
	child(c_split);

	lk(fd, F_SETLK, F_UNLCK, 0, 0);
	lk(fd, F_SETLK, F_RDLCK, 0, 10);
	child(c_readers);

	// Closing any descriptor of the file drops the process's locks.
	lk(fd, F_SETLK, F_WRLCK, 0, 0);
	close(open(path, O_RDONLY));
	child(c_free);

	// Bad requests.
	int ro = open(path, O_RDONLY);
	printf("write lock on read-only fd: %d\n", lk(ro, F_SETLK, F_WRLCK, 0, 1) == EBADF);
	printf("bad type: %d\n", lk(fd, F_SETLK, 7, 0, 1) == EINVAL);
	printf("negative start: %d\n", lk(fd, F_SETLK, F_WRLCK, -5, 1) == EINVAL);

	// F_SETLKW waits for the holder; a cycle of waits is EDEADLK.
	int pfd[2];
	pipe(pfd);
	lk(fd, F_SETLK, F_WRLCK, 0, 1);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		int cfd = open(path, O_RDWR);
		lk(cfd, F_SETLK, F_WRLCK, 1, 1);
		write(pfd[1], "x", 1);
		int r = lk(cfd, F_SETLKW, F_WRLCK, 0, 1); // waits for the parent
		say(r == 0 ? "child got the lock\n" : "child failed\n");
		_exit(0);
	}
	char c;
	read(pfd[0], &c, 1);
	usleep(200000); // let the child block
	printf("parent waits for the child's lock: %s\n", lk(fd, F_SETLKW, F_WRLCK, 1, 1) == EDEADLK ? "EDEADLK" : "no");
	fflush(stdout);
	say("parent unlocks\n");
	lk(fd, F_SETLK, F_UNLCK, 0, 1);
	waitpid(p, NULL, 0);

	// Open file description locks: owned by the description.
	int a = open(path, O_RDWR), b = open(path, O_RDWR);
	printf("ofd lock a: %d\n", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	printf("ofd lock b, same process: %d\n", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10) == EAGAIN);
	printf("posix lock, same process: %d\n", lk(fd, F_SETLK, F_WRLCK, 5, 10) == EAGAIN);
	getlk(b, F_OFD_GETLK, 0, 1, getpid());
	close(a);
	printf("ofd lock b after closing a: %d\n", lk(b, F_OFD_SETLK, F_WRLCK, 5, 10));
	close(b);

	// flock: per description, independent of record locks.
	int f1 = open(path, O_RDONLY), f2 = open(path, O_RDONLY);
	printf("flock f1: %d\n", flock(f1, LOCK_EX) == 0);
	printf("flock f2: %d\n", flock(f2, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK);
	int f3 = dup(f1);
	printf("flock dup of f1: %d\n", flock(f3, LOCK_EX | LOCK_NB) == 0);
	printf("record lock beside flock: %d\n", lk(fd, F_SETLK, F_WRLCK, 0, 0));
	printf("flock shared f2: %d\n", flock(f2, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK);
	close(f1);
	printf("flock f2 with the dup open: %d\n", flock(f2, LOCK_EX | LOCK_NB) != 0);
	close(f3);
	printf("flock f2 after the last close: %d\n", flock(f2, LOCK_EX | LOCK_NB) == 0);
	printf("flock bad op: %d\n", flock(f2, 0) != 0 && errno == EINVAL);
	unlink(path);
	return 0;
}
