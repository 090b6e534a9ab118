// inotify: the events of file and directory operations on a watched
// directory and a watched file, renames with matching cookies, deletion
// ending a watch, one-shot watches, FIONREAD, and the errors. Each
// operation's events are printed sorted (the order between the two
// watches of one operation is the kernel's business). The test compares
// with qemu-riscv64 (the host kernel).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int in, wdDir, wdFile;
static unsigned lastCookie;

static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN", "MOVED_FROM",
			      "MOVED_TO", "CREATE", "DELETE", "DELETE_SELF", "MOVE_SELF"};

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void drain(const char *op) {
	char buf[4096] __attribute__((aligned(8)));
	char *lines[64];
	int n = 0;
	long k = read(in, buf, sizeof buf);
	for (long off = 0; k > 0 && off < k;) {
		struct inotify_event *e = (struct inotify_event *)(buf + off);
		char *l = malloc(256);
		int p = snprintf(l, 256, "%s", e->wd == wdDir ? "dir" : e->wd == wdFile ? "file" : "other");
		for (int i = 0; i < 12; i++)
			if (e->mask & (1u << i))
				p += snprintf(l + p, 256 - p, " %s", names[i]);
		if (e->mask & IN_ISDIR)
			p += snprintf(l + p, 256 - p, " ISDIR");
		if (e->mask & IN_IGNORED)
			p += snprintf(l + p, 256 - p, " IGNORED");
		if (e->len)
			p += snprintf(l + p, 256 - p, " \"%s\"", e->name);
		if (e->cookie) {
			p += snprintf(l + p, 256 - p, " cookie%s", e->cookie == lastCookie ? "=" : "");
			lastCookie = e->cookie;
		}
		lines[n++] = l;
		off += sizeof *e + e->len;
	}
	qsort(lines, n, sizeof lines[0], cmp);
	printf("%s:", op);
	for (int i = 0; i < n; i++)
		printf(" [%s]", lines[i]);
	printf("\n");
}

int main(void) {
	char dir[] = "/tmp/inotifyXXXXXX", f[64], g[64], sub[64];
	mkdtemp(dir);
	snprintf(f, sizeof f, "%s/f", dir);
	snprintf(g, sizeof g, "%s/g", dir);
	snprintf(sub, sizeof sub, "%s/sub", dir);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	wdDir = inotify_add_watch(in, dir, IN_ALL_EVENTS);
	printf("nothing queued: %ld %s\n", read(in, f + 60, 1), strerrorname_np(errno));

	int fd = open(f, O_CREAT | O_WRONLY, 0644);
	drain("create");
	write(fd, "hello", 5);
	drain("write");
	int queued = -1;
	close(fd);
	ioctl(in, FIONREAD, &queued);
	printf("FIONREAD after close: %d\n", queued);
	drain("close");
	wdFile = inotify_add_watch(in, f, IN_ALL_EVENTS);
	printf("same watch again: %d\n", inotify_add_watch(in, f, IN_ALL_EVENTS) == wdFile);
	chmod(f, 0600);
	drain("chmod");
	char c[8];
	fd = open(f, O_RDONLY);
	read(fd, c, 5);
	close(fd);
	drain("open read close");
	rename(f, g);
	drain("rename");
	mkdir(sub, 0755);
	drain("mkdir");
	unlink(g);
	drain("unlink");
	rmdir(sub);
	drain("rmdir");

	// A one-shot watch hears one event and ends.
	fd = open(f, O_CREAT | O_WRONLY, 0644);
	close(fd);
	drain("recreate");
	wdFile = inotify_add_watch(in, f, IN_MODIFY | IN_ONESHOT);
	fd = open(f, O_WRONLY);
	write(fd, "a", 1);
	write(fd, "b", 1);
	close(fd);
	drain("one-shot");

	printf("rm_watch: %d\n", inotify_rm_watch(in, wdDir));
	drain("after rm_watch");
	printf("rm_watch again: %d %s\n", inotify_rm_watch(in, wdDir), strerrorname_np(errno));
	printf("no events in mask: %d %s\n", inotify_add_watch(in, dir, 0), strerrorname_np(errno));
	printf("onlydir on a file: %d %s\n", inotify_add_watch(in, f, IN_MODIFY | IN_ONLYDIR), strerrorname_np(errno));
	printf("missing path: %d %s\n", inotify_add_watch(in, "/nonexistent", IN_MODIFY), strerrorname_np(errno));
	unlink(f);
	rmdir(dir);
	return 0;
}
