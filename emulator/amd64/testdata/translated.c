// translated.c exercises what the x86-64 translator emits code for
// (docs/translation.md): integer operations and their flags read by
// jcc, setcc and cmov at every operand size, the one-operand mul and
// imul, imul's overflow and memory operands, bsf, bsr, bt, popcnt, div,
// push from memory, xchg and cmpxchg with memory, rotates, shifts
// by cl (zero included), byte and word shifts (ah to bh included), calls
// through pointers, a jump table, recursion, and the
// SSE2 operations on pseudo-random data. Each section prints a hash of
// its results, so that the program's output run natively is the oracle
// for the emulator, interpreted and translated.
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t state = 0x9e3779b97f4a7c15;

static uint64_t next(void) {
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static uint64_t hash;

static void mix(uint64_t v) { hash = (hash ^ v) * 0x100000001b3; }

// Edge values first, then random ones.
static uint64_t operand(int i) {
	static const uint64_t edges[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
					 0x80000000, 0xffffffff, 0x7fffffffffffffff, 0x8000000000000000,
					 0xffffffffffffffff, 0x100000000};
	if (i < (int)(sizeof edges / sizeof edges[0])) {
		return edges[i];
	}
	uint64_t v = next();
	switch (i & 3) {
	case 0:
		return v & 0xff;
	case 1:
		return v & 0xffff;
	case 2:
		return v & 0xffffffff;
	}
	return v;
}

static uint64_t partial(uint64_t a, uint64_t b);

// bt and the CF it leaves, popcnt, unsigned div (rdx zero and not), push
// from memory, xchg and cmpxchg with memory (success and failure, the
// flags of the compare).
static __attribute__((noinline)) uint64_t rare(uint64_t a, uint64_t b, unsigned k) {
	static volatile uint64_t m64;
	static volatile uint32_t m32;
	uint64_t r = 0, t = a;
	uint8_t c1, c2, z1, z2;
	// Each bt's CF is read (setc, cmovc, jnc) before an instruction that
	// sets every flag, as compilers emit it.
	__asm__("btq %4, %5\n\t"
		"setc %0\n\t"
		"addq $3, %2\n\t"
		"btl $13, %k5\n\t"
		"setnc %1\n\t"
		"xorq %5, %2\n\t"
		"btq $63, %6\n\t"
		"cmovcq %6, %3\n\t"
		"subq $1, %3\n\t"
		"btl %k4, %k6\n\t"
		"jnc 1f\n\t"
		"addq $7, %2\n"
		"1:\n\t"
		"testq %2, %2\n\t"
		: "=&q"(c1), "=&q"(c2), "+r"(r), "+r"(t)
		: "r"((uint64_t)k), "r"(a), "r"(b)
		: "cc");
	r ^= t << 3 ^ (uint64_t)c1 << 1 ^ (uint64_t)c2 << 2;
	uint64_t pa, pb;
	__asm__("popcntq %2, %0\n\t"
		"popcntl %k3, %k1\n\t"
		: "=&r"(pa), "=&r"(pb)
		: "r"(a), "r"(b)
		: "cc");
	r = r * 31 + pa * 7 + pb;
	uint64_t d = b | 1, q, rem;
	q = a / d;
	rem = a % d;
	r = r * 31 + q + rem;
	uint32_t q32 = (uint32_t)a / ((uint32_t)b | 1), r32 = (uint32_t)a % ((uint32_t)b | 1);
	r = r * 31 + q32 + r32;
	// rdx:rax with rdx below the divisor: 128-bit dividends.
	uint64_t hi = (a >> 3) % d;
	__asm__("divq %4" : "=a"(q), "=d"(rem) : "a"(b), "d"(hi), "r"(d) : "cc");
	r = r * 31 + q + rem;
	uint32_t h32 = (uint32_t)(a >> 40) % ((uint32_t)b | 1);
	__asm__("divl %4" : "=a"(q32), "=d"(r32) : "a"((uint32_t)b), "d"(h32), "r"((uint32_t)b | 1) : "cc");
	r = r * 31 + q32 + r32;
	m64 = a;
	__asm__("pushq %1\n\t"
		"popq %0\n\t"
		: "=r"(t)
		: "m"(m64));
	r = r * 31 + t;
	t = b;
	__asm__("xchgq %0, %1" : "+r"(t), "+m"(m64));
	r = r * 31 + t + m64;
	uint32_t x32 = (uint32_t)a;
	m32 = (uint32_t)b;
	__asm__("xchgl %0, %1" : "+r"(x32), "+m"(m32));
	r = r * 31 + x32 + m32;
	// cmpxchg: equal (m64 is b) then not equal, with ZF and CF read.
	uint64_t acc = b;
	__asm__("lock cmpxchgq %5, %1\n\t"
		"setz %2\n\t"
		"cmpxchgq %6, %1\n\t"
		"setz %3\n\t"
		"setc %4\n\t"
		: "+a"(acc), "+m"(m64), "=&q"(z1), "=&q"(z2), "=&q"(c1)
		: "r"(a ^ 0x55), "r"(a)
		: "cc");
	r = r * 31 + acc + m64 + z1 + (uint64_t)z2 * 2 + (uint64_t)c1 * 4;
	uint32_t acc32 = (uint32_t)a;
	__asm__("cmpxchgl %4, %1\n\t"
		"setz %2\n\t"
		"setl %3\n\t"
		: "+a"(acc32), "+m"(m32), "=&q"(z1), "=&q"(c2)
		: "r"((uint32_t)k)
		: "cc");
	return r * 31 + acc32 + m32 + z1 + (uint64_t)c2 * 2;
}

// imul with a memory operand, two and three operands, and the overflow
// of the 32-bit forms.
static __attribute__((noinline)) uint64_t imul_memory(uint64_t a, uint64_t b) {
	static volatile uint64_t m64;
	static volatile uint32_t m32;
	m64 = b;
	m32 = (uint32_t)(b >> 7);
	uint64_t x = a, y = a;
	uint32_t z = (uint32_t)a, v;
	uint8_t of, of3;
	__asm__("imulq %3, %0\n\t"
		"imulq $-77, %3, %1\n\t"
		"imull %4, %2\n\t"
		"seto %5\n\t"
		"imull $100003, %4, %6\n\t"
		"seto %7\n\t"
		: "+r"(x), "+r"(y), "+r"(z), "+m"(m64), "+m"(m32), "=&q"(of), "=&r"(v), "=&q"(of3)
		:
		: "cc");
	return x ^ y << 1 ^ (uint64_t)z << 2 ^ (uint64_t)v << 3 ^ (uint64_t)of << 62 ^ (uint64_t)of3 << 63;
}

#define COMPARE(T)                                                                 \
	static void compare_##T(T a, T b) {                                         \
		mix((a < b) | (a <= b) << 1 | (a == b) << 2 | (a != b) << 3 |       \
		    (a > b) << 4 | (a >= b) << 5);                                  \
		mix(a < b ? (uint64_t)a : (uint64_t)b);                             \
		T s = a - b, p = a + b;                                             \
		mix((s < 0) | (p < 0) << 1 | (s == 0) << 2 | ((a & b) == 0) << 3); \
	}
COMPARE(int8_t)
COMPARE(uint8_t)
COMPARE(int16_t)
COMPARE(uint16_t)
COMPARE(int32_t)
COMPARE(uint32_t)
COMPARE(int64_t)
COMPARE(uint64_t)

static __attribute__((noinline)) void integers(uint64_t a, uint64_t b, unsigned n) {
	compare_int8_t(a, b);
	compare_uint8_t(a, b);
	compare_int16_t(a, b);
	compare_uint16_t(a, b);
	compare_int32_t(a, b);
	compare_uint32_t(a, b);
	compare_int64_t(a, b);
	compare_uint64_t(a, b);
	unsigned __int128 pu = (unsigned __int128)a * b;
	__int128 ps = (__int128)(int64_t)a * (int64_t)b;
	mix((uint64_t)pu);
	mix((uint64_t)(pu >> 64));
	mix((uint64_t)ps ^ (uint64_t)(ps >> 64));
	uint64_t pu32 = (uint64_t)(uint32_t)a * (uint32_t)b;
	int64_t ps32 = (int64_t)(int32_t)a * (int32_t)b;
	mix(pu32 ^ (uint64_t)ps32);
	int64_t r64;
	int32_t r32;
	mix(__builtin_mul_overflow((int64_t)a, (int64_t)b, &r64) | (uint64_t)r64 << 1);
	mix(__builtin_mul_overflow((int32_t)a, (int32_t)b, &r32) | (uint64_t)(uint32_t)r32 << 1);
	mix(__builtin_add_overflow((int64_t)a, (int64_t)b, &r64) | (uint64_t)r64 << 1);
	mix(__builtin_sub_overflow((int32_t)a, (int32_t)b, &r32) | (uint64_t)(uint32_t)r32 << 1);
	if (a != 0) {
		mix(__builtin_ctzll(a) | __builtin_clzll(a) << 8);
	}
	if ((uint32_t)a != 0) {
		mix(__builtin_ctz((uint32_t)a) | __builtin_clz((uint32_t)a) << 8);
	}
	unsigned k = n & 31, m = n & 63;
	uint32_t x = (uint32_t)a;
	mix((x << k | x >> ((32 - k) & 31)) ^ (uint64_t)(a >> m | a << ((64 - m) & 63)) << 1);
	mix((uint64_t)((int64_t)a >> m) ^ (a << m) ^ (x >> k) ^ (uint64_t)((int32_t)x >> k));
	mix(a / (b | 1) + a % 10 + (int64_t)a / 7 + (uint32_t)a / 1000);
	mix(a * 3 + b * 5 - (a << 2) + ~b + -a);
	mix(partial(a, b));
	mix(imul_memory(a, b));
	mix(rare(a, b, k));
	uint8_t c = (uint8_t)a;
	c += (uint8_t)b;
	c ^= 0x5a;
	mix(c);
}

// Byte and word operations on registers, ah to dh included, and the
// flags they leave.
static __attribute__((noinline)) uint64_t partial(uint64_t a, uint64_t b) {
	uint64_t r = a;
	uint8_t cf, zf, sf, of;
	__asm__("addb %h1, %b0\n\t"
		"xorb %b1, %h0\n\t"
		"orw %w1, %w0\n\t"
		"subb $7, %h0\n\t"
		"andb %h1, %h0\n\t"
		"addw $0x7fff, %w0\n\t"
		: "+Q"(r)
		: "Q"(b)
		: "cc");
	__asm__("addb %b5, %b4\n\t"
		"setc %0\n\t"
		"seto %3\n\t"
		"cmpb %h5, %h4\n\t"
		"setz %1\n\t"
		"sets %2\n\t"
		: "=&q"(cf), "=&q"(zf), "=&q"(sf), "=&q"(of), "+Q"(r)
		: "Q"(b)
		: "cc");
	uint64_t f = (uint64_t)cf << 1 ^ (uint64_t)zf << 2 ^ (uint64_t)sf << 3 ^ (uint64_t)of << 4;
	// Byte and word shifts by an immediate (ah to bh included), each
	// followed by what reads its flags: CF, OF after a 1-bit shift, ZF,
	// SF.
	__asm__("shlb $3, %b5\n\t"
		"setc %0\n\t"
		"shrb $1, %h5\n\t"
		"seto %3\n\t"
		"sarw $5, %w5\n\t"
		"setz %1\n\t"
		"shlw $1, %w5\n\t"
		"sets %2\n\t"
		"adcb $0, %b0\n\t"
		"sarb $7, %h5\n\t"
		"setc %b4\n\t"
		"shrw $15, %w5\n\t"
		"adcb %b4, %b3\n\t"
		"shlb $1, %h5\n\t"
		"seto %b4\n\t"
		: "=&q"(cf), "=&q"(zf), "=&q"(sf), "=&q"(of), "=&q"(b), "+Q"(r)
		:
		: "cc");
	return r ^ f ^ (uint64_t)cf << 5 ^ (uint64_t)zf << 6 ^ (uint64_t)sf << 7 ^ (uint64_t)of << 8 ^ b << 9;
}

typedef uint64_t (*op)(uint64_t, uint64_t);
static uint64_t add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t xor(uint64_t a, uint64_t b) { return a ^ b; }
static uint64_t mul(uint64_t a, uint64_t b) { return a * b; }
static op ops[] = {add, sub, xor, mul};

static __attribute__((noinline)) uint64_t dispatch(int k, uint64_t a) {
	switch (k) {
	case 0:
		return a + 1;
	case 1:
		return a * 7;
	case 2:
		return a >> 3;
	case 3:
		return a ^ 0xdeadbeef;
	case 4:
		return a - 100;
	case 5:
		return ~a;
	case 6:
		return a << 5;
	case 7:
		return a | 0x10;
	}
	return 0;
}

static __attribute__((noinline)) uint64_t fib(int n) { return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2); }

static __attribute__((noinline)) void control(uint64_t a, uint64_t b) {
	mix(ops[a & 3](a, b));
	mix(dispatch((int)(b & 7), a));
}

static volatile uint8_t bytes[64] __attribute__((aligned(16)));

static __attribute__((noinline)) void vectors(void) {
	for (int i = 0; i < 64; i++) {
		bytes[i] = (uint8_t)next();
	}
	__m128i a = _mm_load_si128((const __m128i *)bytes), b = _mm_load_si128((const __m128i *)(bytes + 16));
	__m128i c = _mm_loadu_si128((const __m128i *)(bytes + 33));
	__m128i r[] = {
		_mm_add_epi8(a, b), _mm_add_epi16(a, c), _mm_add_epi32(a, b), _mm_add_epi64(b, c),
		_mm_sub_epi8(a, c), _mm_sub_epi16(b, a), _mm_sub_epi32(c, b), _mm_sub_epi64(a, b),
		_mm_cmpeq_epi8(a, _mm_and_si128(a, b)), _mm_cmpeq_epi16(a, a), _mm_cmpeq_epi32(b, c),
		_mm_cmpgt_epi8(a, b), _mm_cmpgt_epi16(b, c), _mm_cmpgt_epi32(c, a),
		_mm_packs_epi16(a, b), _mm_packus_epi16(b, c), _mm_packs_epi32(a, c),
		_mm_madd_epi16(a, b), _mm_mullo_epi16(b, c),
		_mm_adds_epu8(a, b), _mm_adds_epu16(a, c), _mm_subs_epu8(a, b), _mm_subs_epu16(b, c),
		_mm_adds_epi8(a, b), _mm_adds_epi16(b, c), _mm_subs_epi8(c, a), _mm_subs_epi16(a, b),
		_mm_min_epu8(a, b), _mm_max_epu8(b, c), _mm_min_epi16(a, c), _mm_max_epi16(a, b),
		_mm_avg_epu8(a, b), _mm_avg_epu16(b, c),
		_mm_srli_epi16(a, 3), _mm_srli_epi32(b, 31), _mm_srli_epi64(c, 17), _mm_srai_epi16(a, 15),
		_mm_srai_epi32(b, 7), _mm_slli_epi16(c, 9), _mm_slli_epi32(a, 1), _mm_slli_epi64(b, 63),
		_mm_srli_si128(a, 3), _mm_slli_si128(b, 5), _mm_srli_si128(c, 15),
		_mm_shuffle_epi32(a, 0x1b), _mm_shuffle_epi32(b, 0xe4), _mm_shuffle_epi32(c, 0x55),
		_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(b, c), _mm_unpacklo_epi16(a, c), _mm_unpackhi_epi16(a, b),
		_mm_unpacklo_epi32(b, c), _mm_unpackhi_epi32(c, a), _mm_unpacklo_epi64(a, b), _mm_unpackhi_epi64(b, c),
		_mm_andnot_si128(a, b), _mm_or_si128(b, c), _mm_xor_si128(a, c),
		_mm_cvtsi32_si128((int)next()), _mm_cvtsi64_si128((long long)next()), _mm_move_epi64(c),
		_mm_loadl_epi64((const __m128i *)(bytes + 40)), _mm_mul_epu32(a, b), _mm_sad_epu8(b, c),
	};
	for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++) {
		mix((uint64_t)_mm_cvtsi128_si64(r[i]));
		mix((uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(r[i], r[i])));
		mix((uint64_t)_mm_movemask_epi8(r[i]));
	}
	_mm_storel_epi64((__m128i *)(bytes + 48), r[0]);
	_mm_storeu_si128((__m128i *)(bytes + 17), r[1]);
	for (int i = 0; i < 64; i++) {
		mix(bytes[i]);
	}
	// Shifts by a variable count (an SSE register operand).
	mix((uint64_t)_mm_cvtsi128_si64(_mm_srl_epi32(a, _mm_cvtsi32_si128((int)(next() & 63)))));
}

int main(void) {
	for (int i = 0; i < 3000; i++) {
		integers(operand(i), operand(i * 7 + 3), (unsigned)i);
	}
	printf("integers %016llx\n", (unsigned long long)hash);
	hash = 0;
	for (int i = 0; i < 3000; i++) {
		control(operand(i), operand(i + 1));
	}
	mix(fib(20));
	printf("control %016llx\n", (unsigned long long)hash);
	hash = 0;
	for (int i = 0; i < 500; i++) {
		vectors();
	}
	printf("vectors %016llx\n", (unsigned long long)hash);
	return 0;
}
