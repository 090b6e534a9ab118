// Integer workload for differential testing: arithmetic at the edges of the
// 32- and 64-bit ranges, division corner cases, sorting, hashing, string
// handling, heap allocation, recursion and C11 atomics.
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp(const void *a, const void *b) {
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

// Accesses that cross the boundary between two pages, made right after an
// aligned access to the first page (translated code remembers the page an
// access hit; a misaligned access must not reuse it).

__attribute__((noinline)) static uint64_t crossing(uint8_t *p, int off) {
	uint64_t sum = *(volatile uint64_t *)(p + 4088);
	sum += *(volatile uint64_t *)(p + 4096 - off);
	sum += *(volatile uint32_t *)(p + 4096 - off + 4);
	sum += *(volatile uint16_t *)(p + 4095);
	*(volatile uint64_t *)(p + 4080) = sum;
	*(volatile uint64_t *)(p + 4096 - off) = sum * 3;
	*(volatile uint32_t *)(p + 4094) = (uint32_t)sum;
	return sum + *(volatile uint64_t *)(p + 4090);
}

static uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }

static volatile int64_t edge64[] = {0, 1, -1, 2, -2, 7, -7, INT64_MAX, INT64_MIN, INT32_MAX, INT32_MIN, 0x123456789abcdefll};
static volatile int32_t edge32[] = {0, 1, -1, 3, -3, INT32_MAX, INT32_MIN, 0x7654321};

int main(void) {
	int n64 = sizeof edge64 / sizeof edge64[0], n32 = sizeof edge32 / sizeof edge32[0];
	for (int i = 0; i < n64; i++)
		for (int j = 0; j < n64; j++) {
			int64_t a = edge64[i], b = edge64[j];
			uint64_t ua = a, ub = b;
			printf("%lld %lld: %lld %lld %llu %llu %lld %lld %llx %llx\n", (long long)a, (long long)b,
			       (long long)(b ? (a == INT64_MIN && b == -1 ? a : a / b) : -1),
			       (long long)(b ? (a == INT64_MIN && b == -1 ? 0 : a % b) : a),
			       (unsigned long long)(ub ? ua / ub : 0), (unsigned long long)(ub ? ua % ub : 0),
			       (long long)(ua * ub), (long long)(((__int128)a * b) >> 64),
			       (unsigned long long)(((unsigned __int128)ua * ub) >> 64),
			       (unsigned long long)((ua << (ub & 63)) ^ (ua >> (ub & 63)) ^ (uint64_t)(a >> (ub & 63))));
		}
	for (int i = 0; i < n32; i++)
		for (int j = 0; j < n32; j++) {
			int32_t a = edge32[i], b = edge32[j];
			uint32_t ua = a, ub = b;
			printf("%d %d: %d %d %u %u %d %x\n", a, b, b ? (a == INT32_MIN && b == -1 ? a : a / b) : -1,
			       b ? (a == INT32_MIN && b == -1 ? 0 : a % b) : a, ub ? ua / ub : 0, ub ? ua % ub : 0,
			       (int32_t)(ua * ub), (ua << (ub & 31)) ^ (ua >> (ub & 31)) ^ (uint32_t)(a >> (ub & 31)));
		}

	enum { N = 20000 };
	int64_t *v = malloc(N * sizeof *v);
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < N; i++) v[i] = (int64_t)next() >> (next() & 31);
	qsort(v, N, sizeof *v, cmp);
	for (int i = 0; i < N; i++) h = (h ^ (uint64_t)v[i]) * 1099511628211ull;
	printf("sorted hash %016llx min %lld max %lld\n", (unsigned long long)h, (long long)v[0], (long long)v[N - 1]);
	free(v);

	char buf[256], *p = buf;
	for (int i = 0; i < 20; i++) p += sprintf(p, "%x-", (unsigned)(next() & 0xfff));
	printf("%s %zu %d\n", buf, strlen(buf), (int)(strchr(buf, 'a') ? strchr(buf, 'a') - buf : -1));
	char *dup = strdup(buf);
	memmove(dup + 3, dup, 20);
	printf("%s %d\n", dup, memcmp(dup, buf, 30));
	free(dup);

	_Atomic int64_t counter = 0;
	_Atomic int32_t small = 5;
	for (int i = 0; i < 1000; i++) {
		atomic_fetch_add(&counter, i);
		atomic_fetch_xor(&small, i);
		int32_t expect = atomic_load(&small);
		atomic_compare_exchange_strong(&small, &expect, expect * 3);
		atomic_fetch_or(&counter, 1 << (i & 7));
		atomic_fetch_and(&counter, ~(int64_t)(1 << (i & 5)));
	}
	printf("atomics %lld %d %lld\n", (long long)atomic_load(&counter), atomic_load(&small),
	       (long long)atomic_exchange(&counter, -1));
	// The second page is mapped again, so that the emulator's frames of
	// the two pages are not next to each other in its own memory.
	uint8_t *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED ||
	    mmap(pages + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return 1;
	for (int i = 0; i < 8192; i++) pages[i] = (uint8_t)(i * 7 + 1);
	for (int off = 1; off < 8; off++) printf("crossing %d %016llx\n", off, (unsigned long long)crossing(pages, off));
	printf("fib %llu\n", (unsigned long long)fib(27));
	return 0;
}
