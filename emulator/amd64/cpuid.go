package amd64

import "time"

// The processor the guest sees: a baseline x86-64 with SSE2 and the
// features this interpreter implements, nothing more, so that libraries
// choosing code by CPUID (glibc's ifuncs, Go, V8, OpenSSL) only pick
// implemented instructions.
const (
	// Leaf 1 EDX: fpu, tsc, cx8, cmov, clflush (every x86-64 has it, and
	// the JVM refuses to start without it; it executes as a nop), mmx,
	// fxsr, sse, sse2.
	cpuid1EDX = 1<<0 | 1<<4 | 1<<8 | 1<<15 | 1<<19 | 1<<23 | 1<<24 | 1<<25 | 1<<26
	// Leaf 1 ECX: sse3, ssse3, cx16, sse4.1, sse4.2, popcnt. With
	// lahf/sahf (leaf 0x80000001) that is x86-64-v2.
	cpuid1ECX = 1<<0 | 1<<9 | 1<<13 | 1<<19 | 1<<20 | 1<<23
	// Leaf 0x80000001 EDX: syscall, nx, rdtscp, lm; ECX: lahf/sahf.
	cpuidExt1EDX = 1<<11 | 1<<20 | 1<<27 | 1<<29
	cpuidExt1ECX = 1 << 0
)

// cpuidVendor is "GenuineIntel": glibc reads cache sizes through leaf 4
// for it, which is simple to describe.
var cpuidVendor = [3]uint32{0x756e6547, 0x49656e69, 0x6c65746e} // ebx, edx, ecx

// cpuidBrand is the processor brand string of leaves 0x80000002-4.
const cpuidBrand = "wasmrt x86-64 interpreter"

// caches describes the caches leaf 4 reports: type (1 data, 2
// instruction, 3 unified), level, ways, line size, sets.
var caches = [...]struct{ kind, level, ways, line, sets uint32 }{
	{1, 1, 8, 64, 64},     // 32 KiB L1d
	{2, 1, 8, 64, 64},     // 32 KiB L1i
	{3, 2, 16, 64, 1024},  // 1 MiB L2
	{3, 3, 16, 64, 16384}, // 16 MiB L3
}

func (c *CPU) cpuid() {
	leaf, sub := uint32(c.R[RAX]), uint32(c.R[RCX])
	var a, b, cx, d uint32
	switch leaf {
	case 0:
		a = 7
		b, d, cx = cpuidVendor[0], cpuidVendor[1], cpuidVendor[2]
	case 1:
		// Family 6, model 0x55 stepping 4; one logical processor; the
		// 64-byte clflush line.
		a = 0x00050654
		b = 8 << 8
		cx, d = cpuid1ECX, cpuid1EDX
	case 2:
		// One descriptor: 0xff, "use leaf 4".
		a = 0x00ff0001
	case 4:
		if int(sub) < len(caches) {
			k := caches[sub]
			a = k.kind | k.level<<5 | 1<<8
			b = (k.ways-1)<<22 | (k.line - 1)
			cx = k.sets - 1
		}
	case 7:
		// No structured extended features (no BMI, AVX2, ERMS, FSGSBASE).
	case 0x80000000:
		a = 0x80000008
	case 0x80000001:
		cx, d = cpuidExt1ECX, cpuidExt1EDX
	case 0x80000002, 0x80000003, 0x80000004:
		var s [48]byte
		copy(s[:], cpuidBrand)
		o := (leaf - 0x80000002) * 16
		a, b, cx, d = le.Uint32(s[o:]), le.Uint32(s[o+4:]), le.Uint32(s[o+8:]), le.Uint32(s[o+12:])
	case 0x80000006:
		// L2: 1 MiB, 16-way, 64-byte lines.
		cx = 1024<<16 | 8<<12 | 64
	case 0x80000008:
		// 48-bit physical and virtual addresses.
		a = 48<<8 | 48
	}
	c.R[RAX], c.R[RBX], c.R[RCX], c.R[RDX] = uint64(a), uint64(b), uint64(cx), uint64(d)
}

var hostEpoch = time.Now()

// tsc returns the time-stamp counter.
func (c *CPU) tsc() uint64 {
	if c.Time != nil {
		return c.Time()
	}
	return uint64(time.Since(hostEpoch).Nanoseconds())
}

// CPUIDFeatures returns CPUID leaf 1's EDX, which Linux passes to
// programs as AT_HWCAP on x86-64.
func CPUIDFeatures() uint64 { return cpuid1EDX }
