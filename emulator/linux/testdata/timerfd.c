// timerfd: blocking and non-blocking reads, periodic counts, gettime,
// absolute times, disarming, epoll readiness and bad arguments. Prints only
// what does not depend on timing; compared with qemu-riscv64.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static struct itimerspec spec(long vms, long ims) {
	struct itimerspec s = {.it_value = {vms / 1000, (vms % 1000) * 1000000}, .it_interval = {ims / 1000, (ims % 1000) * 1000000}};
	return s;
}

int main(void) {
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	uint64_t n = 0;
	struct itimerspec s = spec(30, 0), cur;
	timerfd_settime(fd, 0, &s, NULL);
	int r = read(fd, &n, 8);
	printf("one shot: read %d, count %llu\n", r, (unsigned long long)n);
	timerfd_gettime(fd, &cur);
	printf("disarmed after firing: %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	s = spec(20, 20);
	timerfd_settime(fd, 0, &s, NULL);
	timerfd_gettime(fd, &cur);
	printf("interval %ld.%09ld, value in (0, 20ms]: %d\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 20000000);
	usleep(110000);
	read(fd, &n, 8);
	printf("periodic: several expirations: %d\n", n >= 3 && n <= 7);

	int nb = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	errno = 0;
	printf("unarmed non-blocking read: %d %d\n", (int)read(nb, &n, 8), errno == EAGAIN);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	s = spec(0, 0);
	s.it_value.tv_sec = now.tv_sec - 1; // in the past: due at once
	s.it_value.tv_nsec = now.tv_nsec;
	timerfd_settime(nb, TFD_TIMER_ABSTIME, &s, NULL);
	printf("absolute time in the past: %d\n", read(nb, &n, 8) == 8 && n == 1);

	s = spec(10000, 0);
	struct itimerspec old;
	timerfd_settime(nb, 0, &s, NULL);
	s = spec(0, 0);
	timerfd_settime(nb, 0, &s, &old);
	printf("old value about 10 s: %d; disarmed read: %d\n", old.it_value.tv_sec == 9 || old.it_value.tv_sec == 10,
	       read(nb, &n, 8) == -1 && errno == EAGAIN);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, got;
	epoll_ctl(ep, EPOLL_CTL_ADD, nb, &ev);
	s = spec(40, 0);
	timerfd_settime(nb, 0, &s, NULL);
	printf("epoll before expiry: %d\n", epoll_wait(ep, &got, 1, 0));
	printf("epoll waits for it: %d %u\n", epoll_wait(ep, &got, 1, 5000), got.data.u32);

	errno = 0;
	printf("short read: %d\n", read(fd, &n, 4) == -1 && errno == EINVAL);
	printf("bad clock: %d\n", timerfd_create(42, 0) == -1 && errno == EINVAL);
	s.it_value.tv_nsec = 1000000000;
	printf("bad nsec: %d\n", timerfd_settime(fd, 0, &s, NULL) == -1 && errno == EINVAL);
	printf("not a timerfd: %d\n", timerfd_gettime(0, &cur) == -1 && errno == EINVAL);
	return 0;
}
