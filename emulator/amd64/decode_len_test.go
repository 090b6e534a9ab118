package amd64

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestDecodeLength decodes random byte sequences (prefixes, REX, the
// one-byte, 0F, 0F 38 and 0F 3A maps, random ModRM, SIB, displacements
// and immediates) with decode and with golang.org/x/arch's x86asm: when
// x86asm decodes an instruction and decode does not find it illegal, the
// lengths must agree.
func TestDecodeLength(t *testing.T) {
	seed := diffSeed(t)
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	n := diffCount(t, 1000000)
	t.Logf("%d sequences, seed %d (%s=%d reproduces them)", n, seed, diffSeedEnv, seed)

	compared := 0
	type mismatch struct {
		count   int
		example string
	}
	bad := map[string]*mismatch{}
	for k := 0; k < n; k++ {
		b := randomInstBytes(r)
		xi, err := x86asm.Decode(b, 64)
		if err != nil || xi.Len == 0 {
			continue
		}
		if why := decodeLengthExcluded(b, xi); why != "" {
			continue
		}
		const pc = 0x400000
		in, ok := decode(b, pc)
		if ok && in.op == opIllegal {
			continue
		}
		compared++
		got := -1
		if ok {
			got = int(in.len)
		}
		if got == xi.Len {
			continue
		}
		key := opcodeKey(b)
		m := bad[key]
		if m == nil {
			m = &mismatch{example: fmt.Sprintf("% x: x86asm %d bytes (%s), decode %d", b[:max(xi.Len, got, 1)], xi.Len, x86asm.IntelSyntax(xi, pc, nil), got)}
			bad[key] = m
		}
		m.count++
	}
	t.Logf("%d instructions compared", compared)
	if len(bad) > 0 {
		keys := make([]string, 0, len(bad))
		for k := range bad {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var sb strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&sb, "  %s: %d, e.g. %s\n", k, bad[k].count, bad[k].example)
		}
		t.Errorf("lengths differ for %d opcodes (seed %d):\n%s", len(bad), seed, sb.String())
	}
}

// decodeLengthPrefixes are the legacy prefixes the sequences start with.
var decodeLengthPrefixes = []byte{0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65}

// randomInstBytes returns 15 bytes that start with an instruction of
// random form.
func randomInstBytes(r *rand.Rand) []byte {
	b := make([]byte, 0, 20)
	for n := r.IntN(4); n > 0; n-- {
		if r.IntN(3) == 0 {
			break
		}
		b = append(b, decodeLengthPrefixes[r.IntN(len(decodeLengthPrefixes))])
	}
	if r.IntN(2) == 0 {
		b = append(b, 0x40|byte(r.IntN(16)))
	}
	switch r.IntN(10) {
	case 0, 1, 2, 3:
		b = append(b, byte(r.IntN(256)))
	case 4, 5, 6:
		b = append(b, 0x0f, byte(r.IntN(256)))
	case 7, 8:
		b = append(b, 0x0f, 0x38, byte(r.IntN(256)))
	default:
		b = append(b, 0x0f, 0x3a, byte(r.IntN(256)))
	}
	// ModRM with every mod equally likely, then SIB, displacement and
	// immediate bytes.
	b = append(b, byte(r.IntN(256)))
	for len(b) < maxInstLen {
		b = append(b, byte(r.IntN(256)))
	}
	return b[:maxInstLen]
}

// opcodeKey names the opcode of an encoding (its map and opcode byte,
// with the last mandatory-prefix candidate) to group mismatches.
func opcodeKey(b []byte) string {
	i := 0
	pfx := ""
	for ; i < len(b); i++ {
		p := b[i]
		if p&0xf0 == 0x40 {
			continue
		}
		if !isLegacyPrefix(p) {
			break
		}
		if p == 0x66 || p == 0xf2 || p == 0xf3 {
			pfx = fmt.Sprintf("%02x ", p)
		}
	}
	op := b[i:]
	switch {
	case len(op) >= 3 && op[0] == 0x0f && (op[1] == 0x38 || op[1] == 0x3a):
		return fmt.Sprintf("%s%02x %02x %02x", pfx, op[0], op[1], op[2])
	case len(op) >= 2 && op[0] == 0x0f:
		return fmt.Sprintf("%s%02x %02x", pfx, op[0], op[1])
	}
	return fmt.Sprintf("%s%02x", pfx, op[0])
}

// decodeLengthExcluded says why an encoding is not compared, or "".
func decodeLengthExcluded(b []byte, xi x86asm.Inst) string {
	if xi.Op == 0 {
		// x86asm returns a lone prefix as a one-byte "instruction"
		// when it cannot decode what follows.
		return "prefix only"
	}
	return ""
}
