// Floating-point torture test for differential testing: every arithmetic
// operation, conversion and comparison over special values in all five
// RISC-V rounding modes, with the exception flags each raised, plus printf
// and libm on ordinary values.
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void set_rm(int rm) { __asm__ volatile("fsrm %0" ::"r"(rm)); }
static unsigned flags(void) {
	unsigned f;
	__asm__ volatile("frflags %0\n\tfsflags x0" : "=r"(f));
	return f;
}

static uint64_t bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t bitsf(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static double dbl(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static float flt(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static const uint64_t dvals[] = {
	0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7ff0000000000000, 0xfff0000000000000,
	0x7ff8000000000000, 0x7ff4000000000000, 0x0000000000000001, 0x000fffffffffffff, 0x0010000000000000,
	0x7fefffffffffffff, 0x3fe0000000000000, 0x4008000000000000, 0x3ff0000000000001, 0x3cb0000000000000,
	0x43e0000000000000, 0xc3e0000000000001, 0x41e0000000000000, 0xc1e0000000200000, 0x4330000000000001,
	0x3fd5555555555555, 0x400921fb54442d18, 0xbfe8000000000000,
};
static const uint32_t fvals[] = {
	0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0x00000001,
	0x007fffff, 0x00800000, 0x7f7fffff, 0x3f000000, 0x40400000, 0x3f800001, 0x33800000, 0x4f000000,
	0xcf000001, 0x5f000000, 0x4b000001, 0x3eaaaaab, 0x40490fdb, 0xbf400000,
};

#define ND (sizeof dvals / sizeof dvals[0])
#define NF (sizeof fvals / sizeof fvals[0])

int main(void) {
	for (int rm = 0; rm < 5; rm++) {
		set_rm(rm);
		flags();
		uint64_t hd = 0, hf = 0;
		for (unsigned i = 0; i < ND; i++) {
			volatile double a = dbl(dvals[i]);
			for (unsigned j = 0; j < ND; j++) {
				volatile double b = dbl(dvals[j]);
				volatile double c = dbl(dvals[(i * 7 + j) % ND]);
				uint64_t r[] = {bits(a + b), flags(), bits(a - b), flags(), bits(a * b), flags(),
				                bits(a / b), flags(), bits(fma(a, b, c)), flags(), bits(fma(-a, b, c)), flags(),
				                bits(fmin(a, b)), flags(), bits(fmax(a, b)), flags(),
				                (uint64_t)(a < b) | (uint64_t)(a <= b) << 1 | (uint64_t)(a == b) << 2, flags()};
				for (unsigned k = 0; k < sizeof r / sizeof r[0]; k++) hd = (hd ^ r[k]) * 0x100000001b3ull;
				if (i == j || j == 2)
					printf("rm%d d %016llx %016llx: %016llx %016llx %016llx %016llx %016llx fl %llx %llx %llx %llx %llx\n",
					       rm, (unsigned long long)dvals[i], (unsigned long long)dvals[j], (unsigned long long)r[0],
					       (unsigned long long)r[4], (unsigned long long)r[6], (unsigned long long)r[8],
					       (unsigned long long)r[10], (unsigned long long)r[1], (unsigned long long)r[5],
					       (unsigned long long)r[7], (unsigned long long)r[9], (unsigned long long)r[11]);
			}
			uint64_t cv[] = {bits(sqrt(a)), flags(), (uint64_t)(int64_t)a, flags(), (uint64_t)(uint32_t)(int32_t)a, flags(),
			                 (uint64_t)a, flags(), (uint64_t)(uint32_t)a, flags(), bitsf((float)a), flags(),
			                 bits((double)(int64_t)dvals[i]), flags(), bitsf((float)(uint64_t)dvals[i]), flags(),
			                 (uint64_t)lrint(a), flags(), bits(rint(a)), flags()};
			printf("rm%d conv %016llx:", rm, (unsigned long long)dvals[i]);
			for (unsigned k = 0; k < sizeof cv / sizeof cv[0]; k++) printf(" %llx", (unsigned long long)cv[k]);
			printf("\n");
		}
		for (unsigned i = 0; i < NF; i++) {
			volatile float a = flt(fvals[i]);
			for (unsigned j = 0; j < NF; j++) {
				volatile float b = flt(fvals[j]);
				volatile float c = flt(fvals[(i * 5 + j) % NF]);
				uint64_t r[] = {bitsf(a + b), flags(), bitsf(a - b), flags(), bitsf(a * b), flags(),
				                bitsf(a / b), flags(), bitsf(fmaf(a, b, c)), flags(), bitsf(fmaf(a, -b, -c)), flags(),
				                bitsf(fminf(a, b)), flags(), bitsf(fmaxf(a, b)), flags(),
				                (uint64_t)(a < b) | (uint64_t)(a <= b) << 1 | (uint64_t)(a == b) << 2, flags()};
				for (unsigned k = 0; k < sizeof r / sizeof r[0]; k++) hf = (hf ^ r[k]) * 0x100000001b3ull;
			}
			uint64_t cv[] = {bitsf(sqrtf(a)), flags(), (uint64_t)(int64_t)a, flags(), (uint64_t)(int32_t)a, flags(),
			                 (uint64_t)a, flags(), (uint64_t)(uint32_t)a, flags(), bits((double)a), flags(),
			                 bitsf((float)(int32_t)fvals[i]), flags(), bitsf((float)fvals[i]), flags()};
			printf("rm%d convf %08x:", rm, fvals[i]);
			for (unsigned k = 0; k < sizeof cv / sizeof cv[0]; k++) printf(" %llx", (unsigned long long)cv[k]);
			printf("\n");
		}
		printf("rm%d hashes %016llx %016llx\n", rm, (unsigned long long)hd, (unsigned long long)hf);
	}
	set_rm(0);
	double x = 0.1;
	for (int i = 0; i < 12; i++) {
		printf("%.17g %a %g %e %.3f %.10g %.10g %.10g %.9g\n", x, x, exp(x), log(x + 1), sin(x) * 1e6, pow(x, 1.7),
		       atan2(x, 1 - x), cbrt(x), (double)(float)x / 3.0f);
		x = x * -3.7 + 1e-3;
	}
	printf("%g %g %g %g %.20e\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0, 1e308 * 10, 4.9406564584124654e-324);
	return 0;
}
