// Self-modifying code for the translator's tests: a hot function in .text
// (translated when the program is) is called, its page made writable, its
// first two instructions replaced and the instruction cache flushed, and it
// is called again; the new code must run. Prints "before 500500" and
// "after 42000".
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__attribute__((noipa, aligned(64))) int victim(int x) { return x + 1; }

int main(void) {
	int sum = 0;
	for (int i = 0; i < 1000; i++)
		sum += victim(i);
	printf("before %d\n", sum);
	uintptr_t page = (uintptr_t)victim & ~(uintptr_t)4095;
	if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
		perror("mprotect");
		return 1;
	}
	// addi a0, zero, 42; jalr zero, 0(ra)
	const uint32_t code[] = {0x02a00513, 0x00008067};
	memcpy((void *)victim, code, sizeof code);
	__builtin___clear_cache((char *)victim, (char *)victim + sizeof code);
	sum = 0;
	for (int i = 0; i < 1000; i++)
		sum += victim(i);
	printf("after %d\n", sum);
	return 0;
}
