// CPU benchmark workload with the instruction mix of ordinary programs
// rather than of a cipher: function calls and returns, data-dependent
// branches, pointer chasing, byte and word loads and stores. It runs
// ROUNDS rounds of: build a hash table of strings, look every string up,
// sort an array with a recursive quicksort, and walk a linked list.
// Usage: mixed [ROUNDS]  (default 20). Prints a checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS 4096
#define NBUCKETS 1024

struct entry {
	struct entry *next;
	uint32_t hash;
	int value;
	char key[24];
};

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)state;
}

static uint32_t hash(const char *s) {
	uint32_t h = 2166136261u;
	while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void quicksort(int32_t *a, long lo, long hi) {
	while (lo < hi) {
		int32_t p = a[(lo + hi) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p) i++;
			while (a[j] > p) j--;
			if (i <= j) {
				int32_t t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		if (j - lo < hi - i) {
			quicksort(a, lo, j);
			lo = i;
		} else {
			quicksort(a, i, hi);
			hi = j;
		}
	}
}

int main(int argc, char **argv) {
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	static struct entry pool[NKEYS];
	static struct entry *buckets[NBUCKETS];
	static int32_t nums[NKEYS];
	uint64_t sum = 0;
	for (int r = 0; r < rounds; r++) {
		memset(buckets, 0, sizeof buckets);
		for (int i = 0; i < NKEYS; i++) {
			struct entry *e = &pool[i];
			snprintf(e->key, sizeof e->key, "key-%u-%d", rnd() % 100000, i);
			e->hash = hash(e->key);
			e->value = i;
			e->next = buckets[e->hash % NBUCKETS];
			buckets[e->hash % NBUCKETS] = e;
		}
		for (int i = 0; i < NKEYS; i++) {
			const char *k = pool[(i * 7) % NKEYS].key;
			uint32_t h = hash(k);
			for (struct entry *e = buckets[h % NBUCKETS]; e; e = e->next)
				if (e->hash == h && strcmp(e->key, k) == 0) {
					sum += (uint64_t)e->value;
					break;
				}
		}
		for (int i = 0; i < NKEYS; i++) nums[i] = (int32_t)rnd();
		quicksort(nums, 0, NKEYS - 1);
		for (int i = 1; i < NKEYS; i++)
			if (nums[i - 1] > nums[i]) return 1;
		sum += (uint64_t)(uint32_t)nums[NKEYS / 2];
		for (int b = 0; b < NBUCKETS; b++)
			for (struct entry *e = buckets[b]; e; e = e->next) sum = sum * 31 + e->hash;
	}
	printf("%016llx\n", (unsigned long long)sum);
	return 0;
}
