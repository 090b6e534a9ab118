// Namespace bootstrap that must run before the Go runtime starts its threads.
//
// setns(2) into a mount or user namespace, and unshare(2) of a user namespace,
// are refused for a multi-threaded process, and the Go runtime is
// multi-threaded from its first instruction. A constructor runs in the
// single-threaded process image before the Go runtime is initialised, so the
// whole namespace dance happens here and Go code only ever runs in the final
// namespaces.
//
// The bootstrap only acts when WASMRT_NSEXEC_FD names an inherited socket. The
// parent sends line records over it, terminated by "E":
//
//   J<flag-hex> <path>   join the namespace at path (setns); user first
//   U<flags-hex>         unshare these namespaces
//   T<clock> <sec> <nsec> write a time namespace offset (after unshare)
//   E                    end of records
//
// With CLONE_NEWUSER in U, the bootstrap writes "M\n" after unsharing the user
// namespace and waits for "m\n": the parent writes uid_map/gid_map meanwhile.
// Then it forks, so that a new or joined PID namespace applies to the child;
// the intermediate process reports "P<pid>\n" and exits, and the child
// continues into the Go runtime with the socket still open.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define MAX_JOINS 16

static int sync_fd = -1;

static void fail(const char *what, const char *detail)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "F%s %s: %s\n", what, detail ? detail : "", strerror(errno));
	if (n > (int)sizeof(msg))
		n = sizeof(msg);
	if (sync_fd >= 0 && n > 0)
		(void)!write(sync_fd, msg, n);
	_exit(1);
}

// read_line reads one '\n'-terminated record byte by byte, so nothing past the
// bootstrap records is consumed from the socket before Go takes it over.
static int read_line(char *buf, size_t size)
{
	size_t i = 0;
	while (i + 1 < size) {
		char c;
		ssize_t n = read(sync_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (c == '\n') {
			buf[i] = 0;
			return (int)i;
		}
		buf[i++] = c;
	}
	errno = E2BIG;
	return -1;
}

static void write_all(const char *s)
{
	size_t len = strlen(s);
	while (len > 0) {
		ssize_t n = write(sync_fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write sync socket", NULL);
		s += n;
		len -= n;
	}
}

__attribute__((constructor)) static void wasmrt_nsexec(void)
{
	const char *env = getenv("WASMRT_NSEXEC_FD");
	if (env == NULL || *env == 0)
		return;
	sync_fd = atoi(env);
	unsetenv("WASMRT_NSEXEC_FD");

	int join_fd[MAX_JOINS];
	unsigned long join_flag[MAX_JOINS];
	int njoin = 0;
	unsigned long unshare_flags = 0;
	char offsets[512] = "";
	char line[4096];

	for (;;) {
		if (read_line(line, sizeof(line)) < 0)
			fail("read bootstrap", NULL);
		if (line[0] == 'E')
			break;
		switch (line[0]) {
		case 'J': {
			char *path = strchr(line, ' ');
			if (path == NULL || njoin == MAX_JOINS) {
				errno = EINVAL;
				fail("bad join record", line);
			}
			*path++ = 0;
			join_flag[njoin] = strtoul(line + 1, NULL, 16);
			// Open every path before joining anything: after entering a
			// mount namespace the host paths may no longer resolve.
			join_fd[njoin] = open(path, O_RDONLY | O_CLOEXEC);
			if (join_fd[njoin] < 0)
				fail("open namespace", path);
			njoin++;
			break;
		}
		case 'U':
			unshare_flags = strtoul(line + 1, NULL, 16);
			break;
		case 'T': {
			size_t used = strlen(offsets);
			if (used + strlen(line) + 2 >= sizeof(offsets)) {
				errno = E2BIG;
				fail("time offsets", line);
			}
			strcat(offsets, line + 1);
			strcat(offsets, "\n");
			break;
		}
		default:
			errno = EINVAL;
			fail("unknown bootstrap record", line);
		}
	}

	// A joined user namespace first: it grants the capabilities needed to
	// join the namespaces it owns.
	for (int i = 0; i < njoin; i++) {
		if (join_flag[i] == CLONE_NEWUSER && setns(join_fd[i], CLONE_NEWUSER) < 0)
			fail("setns", "user");
	}
	for (int i = 0; i < njoin; i++) {
		if (join_flag[i] != CLONE_NEWUSER && setns(join_fd[i], (int)join_flag[i]) < 0) {
			char flag[32];
			snprintf(flag, sizeof(flag), "%#lx", join_flag[i]);
			fail("setns", flag);
		}
		close(join_fd[i]);
	}

	if (unshare_flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail("unshare", "user");
		// Without this the parent (which lacks ptrace rights over a
		// non-dumpable child in another user namespace) cannot write the maps.
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		write_all("M\n");
		if (read_line(line, sizeof(line)) < 0 || line[0] != 'm') {
			errno = EPROTO;
			fail("wait for id mappings", NULL);
		}
		if (setresgid(0, 0, 0) < 0)
			fail("setresgid", "0");
		if (setresuid(0, 0, 0) < 0)
			fail("setresuid", "0");
	}
	unsigned long rest = unshare_flags & ~(unsigned long)CLONE_NEWUSER;
	if (rest != 0 && unshare((int)rest) < 0) {
		char flag[32];
		snprintf(flag, sizeof(flag), "%#lx", rest);
		fail("unshare", flag);
	}
	if ((unshare_flags & CLONE_NEWTIME) && offsets[0] != 0) {
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			fail("open", "/proc/self/timens_offsets");
		if (write(fd, offsets, strlen(offsets)) < 0)
			fail("write", "/proc/self/timens_offsets");
		close(fd);
	}

	pid_t child = fork();
	if (child < 0)
		fail("fork", NULL);
	if (child > 0) {
		char msg[32];
		snprintf(msg, sizeof(msg), "P%d\n", (int)child);
		write_all(msg);
		_exit(0);
	}
	// The child (pid 1 of a new PID namespace, or a member of a joined one)
	// returns into the Go runtime; it notices a vanished parent as EOF on the
	// socket and exits.
}
