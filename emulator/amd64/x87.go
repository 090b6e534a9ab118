package amd64

import (
	"math"
	"math/big"
)

// The x87 floating-point unit: eight 80-bit registers used as a stack,
// with the control word's precision and rounding control. Arithmetic,
// square roots, conversions, rounding, scaling and remainders are exact
// to the 64-bit significand (math/big); the transcendental instructions
// (fsin, fcos, fptan, fpatan, f2xm1, fyl2x, fyl2xp1) are computed in
// double precision and widened, so their last 11 bits may differ from a
// real x87. The exception flags IE, ZE and SF are set; PE, UE, OE, DE and
// C1's rounding indication are not computed (all exceptions stay masked:
// fldcw's unmasking has no effect).

// Status word bits.
const (
	fswIE  = 1 << 0
	fswZE  = 1 << 2
	fswSF  = 1 << 6
	fswES  = 1 << 7
	fswC0  = 1 << 8
	fswC1  = 1 << 9
	fswC2  = 1 << 10
	fswC3  = 1 << 14
	fswTop = 7 << 11
)

const f80Bias = 16383

var (
	// f80Indefinite is the default NaN of invalid operations.
	f80Indefinite = Float80{Mantissa: 0xc000000000000000, SignExp: 0xffff}
	f80One        = Float80{Mantissa: 1 << 63, SignExp: f80Bias}
)

func (f Float80) neg() bool { return f.SignExp&0x8000 != 0 }
func (f Float80) exp() int  { return int(f.SignExp & 0x7fff) }
func (f Float80) isNaN() bool {
	return f.exp() == 0x7fff && f.Mantissa<<1 != 0
}
func (f Float80) isInf() bool  { return f.exp() == 0x7fff && f.Mantissa<<1 == 0 }
func (f Float80) isZero() bool { return f.exp() == 0 && f.Mantissa == 0 }
func (f Float80) quiet() Float80 {
	f.Mantissa |= 3 << 62
	return f
}

func f80Inf(neg bool) Float80 {
	f := Float80{Mantissa: 1 << 63, SignExp: 0x7fff}
	if neg {
		f.SignExp |= 0x8000
	}
	return f
}

func f80Zero(neg bool) Float80 {
	if neg {
		return Float80{SignExp: 0x8000}
	}
	return Float80{}
}

// big returns the exact value of a finite f.
func (f Float80) big() *big.Float {
	e := f.exp()
	if e == 0 {
		e = 1
	}
	b := new(big.Float).SetPrec(64).SetUint64(f.Mantissa)
	b.SetMantExp(b, e-f80Bias-63)
	if f.neg() {
		b.Neg(b)
	}
	return b
}

// rcMode maps a rounding-control field to math/big's mode.
func rcMode(rc uint16) big.RoundingMode {
	switch rc & 3 {
	case 1:
		return big.ToNegativeInf
	case 2:
		return big.ToPositiveInf
	case 3:
		return big.ToZero
	}
	return big.ToNearestEven
}

// roundInt rounds x to an integer in mode.
func roundInt(x *big.Float, mode big.RoundingMode) *big.Int {
	t, acc := x.Int(nil)
	if acc == big.Exact {
		return t
	}
	frac := new(big.Float).Sub(x, new(big.Float).SetInt(t))
	one := big.NewInt(1)
	switch mode {
	case big.ToNegativeInf:
		if frac.Sign() < 0 {
			t.Sub(t, one)
		}
	case big.ToPositiveInf:
		if frac.Sign() > 0 {
			t.Add(t, one)
		}
	case big.ToNearestEven:
		c := new(big.Float).Abs(frac).Cmp(big.NewFloat(0.5))
		if c > 0 || c == 0 && t.Bit(0) == 1 {
			if frac.Sign() > 0 {
				t.Add(t, one)
			} else {
				t.Sub(t, one)
			}
		}
	}
	return t
}

// roundFormat rounds a finite x to a binary format of p-bit significands
// with normal exponents emin..emax (value 1.f×2^e) and denormals below;
// it returns the representable result, or an infinity or the largest
// finite value on overflow, as mode says.
func roundFormat(x *big.Float, p uint, emin, emax int, mode big.RoundingMode) *big.Float {
	if x.Sign() == 0 {
		return x
	}
	if e := x.MantExp(nil) - 1; e < emin {
		ulp := emin - int(p) + 1
		s := new(big.Float).SetMantExp(x, -ulp)
		n := roundInt(s, mode)
		r := new(big.Float).SetInt(n)
		if n.Sign() == 0 && x.Signbit() {
			r.Neg(r)
		}
		return r.SetMantExp(r, ulp)
	}
	r := new(big.Float).SetPrec(p).SetMode(mode).Set(x)
	if r.MantExp(nil)-1 > emax {
		toMax := mode == big.ToZero || mode == big.ToNegativeInf && !x.Signbit() || mode == big.ToPositiveInf && x.Signbit()
		if !toMax {
			return new(big.Float).SetInf(x.Signbit())
		}
		m := new(big.Float).SetPrec(p).SetMantExp(new(big.Float).Sub(big.NewFloat(1), new(big.Float).SetMantExp(big.NewFloat(1), -int(p))), emax+1)
		if x.Signbit() {
			m.Neg(m)
		}
		return m
	}
	return r
}

// fromBig converts an exactly representable x (or an infinity) to a
// Float80.
func fromBig(x *big.Float) Float80 {
	if x.IsInf() {
		return f80Inf(x.Signbit())
	}
	if x.Sign() == 0 {
		return f80Zero(x.Signbit())
	}
	var sign uint16
	if x.Signbit() {
		sign = 0x8000
	}
	a := new(big.Float).Abs(x)
	be := a.MantExp(nil) - 1 + f80Bias
	if be <= 0 {
		m, _ := new(big.Float).SetMantExp(a, f80Bias-1+63).Uint64()
		return Float80{Mantissa: m, SignExp: sign}
	}
	m, _ := new(big.Float).SetMantExp(a, 63-(be-f80Bias)).Uint64()
	return Float80{Mantissa: m, SignExp: sign | uint16(be)}
}

// precision is the significand width the control word's precision
// control asks for (the reserved setting counts as 64 bits).
func (x *X87) precision() uint {
	switch x.Control >> 8 & 3 {
	case 0:
		return 24
	case 2:
		return 53
	}
	return 64
}

// round rounds x to the control word's precision and rounding.
func (x *X87) round(v *big.Float) Float80 {
	return fromBig(roundFormat(v, x.precision(), 1-f80Bias, f80Bias, rcMode(x.Control>>10)))
}

func f80FromFloat64(v uint64) Float80 {
	f := math.Float64frombits(v)
	switch {
	case f != f:
		return Float80{Mantissa: 1<<63 | (v&(1<<52-1))<<11, SignExp: uint16(v>>48)&0x8000 | 0x7fff}
	case math.IsInf(f, 0):
		return f80Inf(f < 0)
	}
	return fromBig(new(big.Float).SetFloat64(f))
}

func f80FromFloat32(v uint32) Float80 {
	f := math.Float32frombits(v)
	if f != f {
		return Float80{Mantissa: 1<<63 | uint64(v&(1<<23-1))<<40, SignExp: uint16(v>>16)&0x8000 | 0x7fff}
	}
	return f80FromFloat64(math.Float64bits(float64(f)))
}

// float64 converts f with rounding control rc.
func (f Float80) float64(rc uint16) uint64 {
	switch {
	case f.isNaN():
		return uint64(f.SignExp>>15)<<63 | 0x7ff8000000000000 | f.Mantissa<<1>>12
	case f.isInf():
		return math.Float64bits(math.Inf(1 - 2*int(f.SignExp>>15)))
	}
	r := roundFormat(f.big(), 53, -1022, 1023, rcMode(rc))
	v, _ := r.Float64()
	return math.Float64bits(v)
}

func (f Float80) float32(rc uint16) uint32 {
	switch {
	case f.isNaN():
		return uint32(f.SignExp>>15)<<31 | 0x7fc00000 | uint32(f.Mantissa<<1>>41)
	case f.isInf():
		return math.Float32bits(float32(math.Inf(1 - 2*int(f.SignExp>>15))))
	}
	r := roundFormat(f.big(), 24, -126, 127, rcMode(rc))
	v, _ := r.Float32()
	return math.Float32bits(v)
}

// toInt converts f to a size-byte integer with rounding mode; NaN,
// infinity and out-of-range values give the integer indefinite.
func (f Float80) toInt(size uint8, mode big.RoundingMode) (uint64, bool) {
	indefinite := uint64(1) << (size*8 - 1)
	if f.isNaN() || f.isInf() {
		return indefinite, false
	}
	n := roundInt(f.big(), mode)
	lim := new(big.Int).Lsh(big.NewInt(1), uint(size*8-1))
	if n.Cmp(lim) >= 0 || n.Cmp(new(big.Int).Neg(lim)) < 0 {
		return indefinite, false
	}
	return uint64(n.Int64()) & sizeMask(size), true
}

// st returns ST(i).
func (x *X87) st(i int) *Float80 { return &x.ST[(x.top()+i)&7] }

func (x *X87) setTop(t int) {
	x.Status = x.Status&^fswTop | uint16(t&7)<<11
}

func (x *X87) valid(i int) bool { return x.Tag>>((x.top()+i)&7)&1 != 0 }

// push pushes v; pushing onto a full stack is a stack fault that loads
// the indefinite NaN.
func (x *X87) push(v Float80) {
	t := (x.top() - 1) & 7
	x.setTop(t)
	if x.Tag>>t&1 != 0 {
		x.Status |= fswIE | fswSF | fswC1
		v = f80Indefinite
	}
	x.Tag |= 1 << t
	x.ST[t] = v
}

func (x *X87) pop() {
	t := x.top()
	x.Tag &^= 1 << t
	x.setTop(t + 1)
}

// get returns ST(i), or the indefinite NaN with a stack-underflow fault
// when the register is empty.
func (x *X87) get(i int) Float80 {
	if !x.valid(i) {
		x.Status |= fswIE | fswSF
		x.Status &^= fswC1
		return f80Indefinite
	}
	return *x.st(i)
}

// set stores v in ST(i) and marks it valid.
func (x *X87) set(i int, v Float80) {
	r := (x.top() + i) & 7
	x.ST[r] = v
	x.Tag |= 1 << r
}

// Arithmetic operations (the reg field of D8's forms).
const (
	x87Add = iota
	x87Mul
	x87Com
	x87Comp
	x87Sub
	x87Subr
	x87Div
	x87Divr
)

// nanResult propagates NaN operands: the quieted NaN with the larger
// significand when both are NaNs, else the NaN operand quieted.
func nanResult(a, b Float80) (Float80, bool) {
	an, bn := a.isNaN(), b.isNaN()
	switch {
	case an && bn:
		if a.Mantissa<<1 >= b.Mantissa<<1 {
			return a.quiet(), true
		}
		return b.quiet(), true
	case an:
		return a.quiet(), true
	case bn:
		return b.quiet(), true
	}
	return Float80{}, false
}

// arith computes a op b (op: x87Add, x87Mul, x87Sub, x87Div).
func (x *X87) arith(op int, a, b Float80) Float80 {
	if r, ok := nanResult(a, b); ok {
		return r
	}
	invalid := func() Float80 {
		x.Status |= fswIE
		return f80Indefinite
	}
	switch op {
	case x87Add, x87Sub:
		bneg := b.neg() != (op == x87Sub)
		if a.isInf() || b.isInf() {
			if a.isInf() && b.isInf() && a.neg() != bneg {
				return invalid()
			}
			if a.isInf() {
				return a
			}
			return f80Inf(bneg)
		}
		bb := b.big()
		if op == x87Sub {
			bb.Neg(bb)
		}
		s := new(big.Float).SetPrec(200).Add(a.big(), bb)
		if s.Sign() == 0 && !(a.isZero() && b.isZero() && a.neg() == bneg) {
			// An exact zero sum is +0, or -0 when rounding down.
			return f80Zero(x.Control>>10&3 == 1)
		}
		if s.Sign() == 0 {
			return f80Zero(a.neg())
		}
		return x.round(s)
	case x87Mul:
		neg := a.neg() != b.neg()
		if a.isInf() || b.isInf() {
			if a.isZero() || b.isZero() {
				return invalid()
			}
			return f80Inf(neg)
		}
		if a.isZero() || b.isZero() {
			return f80Zero(neg)
		}
		p := new(big.Float).SetPrec(200).Mul(a.big(), b.big())
		return x.round(p)
	default: // x87Div
		neg := a.neg() != b.neg()
		switch {
		case a.isInf() && b.isInf(), a.isZero() && b.isZero():
			return invalid()
		case a.isInf():
			return f80Inf(neg)
		case b.isInf():
			return f80Zero(neg)
		case b.isZero():
			x.Status |= fswZE
			return f80Inf(neg)
		case a.isZero():
			return f80Zero(neg)
		}
		// 64 significand bits of quotient plus guard bits decide the
		// rounding exactly when the remainder's sign is folded in.
		q := new(big.Float).SetPrec(256).Quo(a.big(), b.big())
		return x.round(q)
	}
}

// compare returns the condition bits C3, C2, C0 of comparing a with b.
func (x *X87) compare(a, b Float80, unorderedOK bool) uint16 {
	if a.isNaN() || b.isNaN() {
		if !unorderedOK || a.Mantissa&(1<<62) == 0 || b.Mantissa&(1<<62) == 0 {
			x.Status |= fswIE
		}
		return fswC3 | fswC2 | fswC0
	}
	c := cmpF80(a, b)
	switch {
	case c < 0:
		return fswC0
	case c == 0:
		return fswC3
	}
	return 0
}

func cmpF80(a, b Float80) int {
	switch {
	case a.isInf() || b.isInf():
		av, bv := infRank(a), infRank(b)
		switch {
		case av < bv:
			return -1
		case av > bv:
			return 1
		}
		if a.isInf() {
			return 0
		}
	}
	return a.big().Cmp(b.big())
}

func infRank(f Float80) int {
	if !f.isInf() {
		return 0
	}
	if f.neg() {
		return -1
	}
	return 1
}

// setCC sets C3, C2, C0 and clears C1.
func (x *X87) setCC(cc uint16) {
	x.Status = x.Status&^(fswC3|fswC2|fswC1|fswC0) | cc
}

// ccFlags turns compare bits into ZF, PF, CF (fcomi, fucomi).
func ccFlags(cc uint16) uint64 {
	var f uint64
	if cc&fswC3 != 0 {
		f |= FlagZF
	}
	if cc&fswC2 != 0 {
		f |= FlagPF
	}
	if cc&fswC0 != 0 {
		f |= FlagCF
	}
	return f
}

// loadFloat reads a floating-point memory operand of kind 4, 8 or 10
// bytes.
func (c *CPU) loadFloat(addr uint64, kind int) (Float80, bool) {
	switch kind {
	case 4:
		v, ok := c.load(addr, 4)
		return f80FromFloat32(uint32(v)), ok
	case 8:
		v, ok := c.load(addr, 8)
		return f80FromFloat64(v), ok
	}
	m, ok := c.load(addr, 8)
	if !ok {
		return Float80{}, false
	}
	se, ok := c.load(addr+8, 2)
	return Float80{Mantissa: m, SignExp: uint16(se)}, ok
}

func (c *CPU) loadInt(addr uint64, size uint8) (Float80, bool) {
	v, ok := c.load(addr, size)
	if !ok {
		return Float80{}, false
	}
	n := int64(signExtend(v, size))
	return fromBig(new(big.Float).SetInt64(n)), true
}

// x87 executes the x87 escape opcodes D8-DF.
func (c *CPU) x87(in *inst) int {
	x := &c.X87
	modrm := byte(in.imm)
	reg := int(modrm >> 3 & 7)
	if !in.mem {
		return c.x87Reg(in.sub, reg, int(modrm&7))
	}
	addr := c.ea(in)
	rc := x.Control >> 10
	switch in.sub {
	case 0, 2, 4, 6: // arithmetic with m32fp, m32int, m64fp, m16int
		var v Float80
		var ok bool
		switch in.sub {
		case 0:
			v, ok = c.loadFloat(addr, 4)
		case 2:
			v, ok = c.loadInt(addr, 4)
		case 4:
			v, ok = c.loadFloat(addr, 8)
		default:
			v, ok = c.loadInt(addr, 2)
		}
		if !ok {
			return stepExit
		}
		c.x87Arith(reg, 0, v, false)
		return stepNext
	}
	switch in.sub<<3 | uint8(reg) {
	case 1<<3 | 0, 3<<3 | 5, 5<<3 | 0: // fld m32fp, m80fp, m64fp
		kind := 4
		switch in.sub {
		case 3:
			kind = 10
		case 5:
			kind = 8
		}
		v, ok := c.loadFloat(addr, kind)
		if !ok {
			return stepExit
		}
		if v.isNaN() && kind != 10 {
			if v.Mantissa&(1<<62) == 0 {
				x.Status |= fswIE
			}
			v = v.quiet()
		}
		x.push(v)
	case 3<<3 | 0, 7<<3 | 0, 7<<3 | 5: // fild m32, m16, m64
		size := uint8(4)
		switch {
		case reg == 5:
			size = 8
		case in.sub == 7:
			size = 2
		}
		v, ok := c.loadInt(addr, size)
		if !ok {
			return stepExit
		}
		x.push(v)
	case 1<<3 | 2, 1<<3 | 3: // fst(p) m32fp
		if !c.store(addr, 4, uint64(x.get(0).float32(rc))) {
			return stepExit
		}
		if reg == 3 {
			x.pop()
		}
	case 5<<3 | 2, 5<<3 | 3: // fst(p) m64fp
		if !c.store(addr, 8, x.get(0).float64(rc)) {
			return stepExit
		}
		if reg == 3 {
			x.pop()
		}
	case 3<<3 | 7: // fstp m80fp
		v := x.get(0)
		var b [10]byte
		le.PutUint64(b[:], v.Mantissa)
		le.PutUint16(b[8:], v.SignExp)
		if !c.writeSlow(addr, b[:]) {
			return stepExit
		}
		x.pop()
	case 3<<3 | 1, 3<<3 | 2, 3<<3 | 3, 7<<3 | 1, 7<<3 | 2, 7<<3 | 3, 7<<3 | 7, 5<<3 | 1:
		// fisttp (truncating), fist, fistp.
		size := uint8(4)
		switch {
		case in.sub == 7 && reg == 7:
			size = 8
		case in.sub == 7:
			size = 2
		case in.sub == 5:
			size = 8
		}
		mode := rcMode(rc)
		if reg == 1 {
			mode = big.ToZero
		}
		v, ok := x.get(0).toInt(size, mode)
		if !ok {
			x.Status |= fswIE
		}
		if !c.store(addr, size, v) {
			return stepExit
		}
		if reg != 2 {
			x.pop()
		}
	case 1<<3 | 5: // fldcw
		v, ok := c.load(addr, 2)
		if !ok {
			return stepExit
		}
		x.Control = uint16(v) | 0x40
	case 1<<3 | 7: // fnstcw
		if !c.store(addr, 2, uint64(x.Control)) {
			return stepExit
		}
	case 5<<3 | 7: // fnstsw m16
		if !c.store(addr, 2, uint64(x.Status)) {
			return stepExit
		}
	case 1<<3 | 4, 1<<3 | 6, 5<<3 | 4, 5<<3 | 6: // fldenv, fnstenv, frstor, fnsave
		return c.x87Env(addr, in.sub, reg)
	case 7<<3 | 4, 7<<3 | 6: // fbld, fbstp
		return c.x87BCD(addr, reg == 6)
	default:
		return c.illegalOp(in)
	}
	return stepNext
}

// x87Arith performs D8-style arithmetic: reg selects the operation, the
// source is v (memory) or ST(i); toST says the result goes to ST(i)
// (DC/DE register forms), whose sub and div directions are swapped.
func (c *CPU) x87Arith(reg, i int, v Float80, toST bool) {
	x := &c.X87
	a := x.get(0)
	switch reg {
	case x87Com, x87Comp:
		x.setCC(x.compare(a, v, false))
		if reg == x87Comp {
			x.pop()
		}
		return
	}
	dst := 0
	if toST {
		dst = i
		a, v = x.get(i), x.get(0)
		switch reg {
		case x87Sub:
			reg = x87Subr
		case x87Subr:
			reg = x87Sub
		case x87Div:
			reg = x87Divr
		case x87Divr:
			reg = x87Div
		}
	}
	var r Float80
	switch reg {
	case x87Add:
		r = x.arith(x87Add, a, v)
	case x87Mul:
		r = x.arith(x87Mul, a, v)
	case x87Sub:
		r = x.arith(x87Sub, a, v)
	case x87Subr:
		r = x.arith(x87Sub, v, a)
	case x87Div:
		r = x.arith(x87Div, a, v)
	case x87Divr:
		r = x.arith(x87Div, v, a)
	}
	x.set(dst, r)
	x.Status &^= fswC1
}

// constants of D9 E8-EE, rounded from their exact values.
var x87Consts = [...]float64{1, math.Log2(10), math.Log2E, math.Pi, math.Log10(2), math.Ln2, 0}

func (c *CPU) x87Reg(op uint8, reg, i int) int {
	x := &c.X87
	switch op {
	case 0: // D8: arithmetic st0 op sti
		c.x87Arith(reg, i, x.get(i), false)
	case 4: // DC: sti op st0
		if reg == x87Com || reg == x87Comp {
			c.x87Arith(reg, i, x.get(i), false)
		} else {
			c.x87Arith(reg, i, Float80{}, true)
		}
	case 6: // DE: sti op st0, pop
		switch {
		case reg == x87Comp && i == 1: // fcompp
			x.setCC(x.compare(x.get(0), x.get(1), false))
			x.pop()
			x.pop()
		case reg == x87Com || reg == x87Comp:
			return c.illegalOp(nil)
		default:
			c.x87Arith(reg, i, Float80{}, true)
			x.pop()
		}
	case 1: // D9
		switch reg {
		case 0: // fld sti
			x.push(x.get(i))
		case 1: // fxch
			a, b := x.get(0), x.get(i)
			x.set(0, b)
			x.set(i, a)
		case 2: // fnop
			if i != 0 {
				return c.illegalOp(nil)
			}
		case 4:
			return c.x87Misc1(i)
		case 5:
			if i == 7 {
				return c.illegalOp(nil)
			}
			x.push(fromBig(roundFormat(new(big.Float).SetFloat64(x87Consts[i]), 64, 1-f80Bias, f80Bias, big.ToNearestEven)))
		case 6, 7:
			return c.x87Transcendental(reg, i)
		default:
			return c.illegalOp(nil)
		}
	case 2: // DA: fcmov, fucompp
		switch {
		case reg < 4:
			f := c.Flags()
			cond := [4]bool{f&FlagCF != 0, f&FlagZF != 0, f&(FlagCF|FlagZF) != 0, f&FlagPF != 0}[reg]
			if cond {
				x.set(0, x.get(i))
			}
		case reg == 5 && i == 1:
			x.setCC(x.compare(x.get(0), x.get(1), true))
			x.pop()
			x.pop()
		default:
			return c.illegalOp(nil)
		}
	case 3: // DB: fcmovn*, fnclex, fninit, fucomi, fcomi
		switch {
		case reg < 4:
			f := c.Flags()
			cond := [4]bool{f&FlagCF != 0, f&FlagZF != 0, f&(FlagCF|FlagZF) != 0, f&FlagPF != 0}[reg]
			if !cond {
				x.set(0, x.get(i))
			}
		case reg == 4 && i == 2: // fnclex
			x.Status &^= 0x80ff
		case reg == 4 && i == 3: // fninit
			*x = X87{Control: 0x37f}
		case reg == 4 && (i == 0 || i == 1 || i == 4):
			// feni, fdisi, fsetpm: no-ops since the 287.
		case reg == 5 || reg == 6:
			c.setArith(ccFlags(x.compare(x.get(0), x.get(i), reg == 5)))
		default:
			return c.illegalOp(nil)
		}
	case 5: // DD: ffree, fst, fstp, fucom, fucomp
		switch reg {
		case 0:
			x.Tag &^= 1 << ((x.top() + i) & 7)
		case 2, 3:
			x.set(i, x.get(0))
			if reg == 3 {
				x.pop()
			}
		case 4, 5:
			x.setCC(x.compare(x.get(0), x.get(i), true))
			if reg == 5 {
				x.pop()
			}
		default:
			return c.illegalOp(nil)
		}
	case 7: // DF: ffreep, fnstsw ax, fucomip, fcomip
		switch {
		case reg == 0:
			x.Tag &^= 1 << ((x.top() + i) & 7)
			x.pop()
		case reg == 4 && i == 0:
			c.R[RAX] = c.R[RAX]&^0xffff | uint64(x.Status)
		case reg == 5 || reg == 6:
			c.setArith(ccFlags(x.compare(x.get(0), x.get(i), reg == 5)))
			x.pop()
		default:
			return c.illegalOp(nil)
		}
	}
	return stepNext
}

// x87Misc1 is D9 E0-E5: fchs, fabs, ftst, fxam.
func (c *CPU) x87Misc1(i int) int {
	x := &c.X87
	switch i {
	case 0, 1:
		v := x.get(0)
		if i == 0 {
			v.SignExp ^= 0x8000
		} else {
			v.SignExp &^= 0x8000
		}
		x.set(0, v)
		x.Status &^= fswC1
	case 4:
		x.setCC(x.compare(x.get(0), Float80{}, false))
	case 5:
		var cc uint16
		v := *x.st(0)
		switch {
		case !x.valid(0):
			cc = fswC3 | fswC0
		case v.isNaN():
			cc = fswC0
		case v.isInf():
			cc = fswC2 | fswC0
		case v.isZero():
			cc = fswC3
		case v.exp() == 0:
			cc = fswC3 | fswC2
		case v.Mantissa>>63 == 0:
			cc = 0 // unnormal: unsupported
		default:
			cc = fswC2
		}
		if v.neg() {
			cc |= fswC1
		}
		x.Status = x.Status&^(fswC3|fswC2|fswC1|fswC0) | cc
	default:
		return c.illegalOp(nil)
	}
	return stepNext
}

// x87Transcendental is D9 F0-FF.
func (c *CPU) x87Transcendental(reg, i int) int {
	x := &c.X87
	op := (reg-6)*8 + i
	a := x.get(0)
	toF := func(f Float80) float64 { return math.Float64frombits(f.float64(0)) }
	fromF := func(f float64) Float80 {
		if f != f {
			x.Status |= fswIE
			return f80Indefinite
		}
		return f80FromFloat64(math.Float64bits(f))
	}
	x.Status &^= fswC1 | fswC2
	switch op {
	case 0: // f2xm1
		x.set(0, fromF(math.Expm1(toF(a)*math.Ln2)))
	case 1: // fyl2x
		b := x.get(1)
		x.pop()
		x.set(0, fromF(toF(b)*math.Log2(toF(a))))
	case 2: // fptan
		x.set(0, fromF(math.Tan(toF(a))))
		x.push(f80One)
	case 3: // fpatan
		b := x.get(1)
		x.pop()
		x.set(0, fromF(math.Atan2(toF(b), toF(a))))
	case 4: // fxtract
		if a.isNaN() || a.isInf() || a.isZero() {
			if a.isZero() {
				x.Status |= fswZE
				x.set(0, f80Inf(true))
				x.push(a)
			}
			return stepNext
		}
		m := new(big.Float)
		e := a.big().MantExp(m) - 1
		x.set(0, fromBig(new(big.Float).SetInt64(int64(e))))
		x.push(fromBig(m.SetMantExp(m, 1)))
	case 5, 8: // fprem1, fprem
		c.x87Prem(op == 5)
	case 6: // fdecstp
		x.setTop(x.top() - 1)
	case 7: // fincstp
		x.setTop(x.top() + 1)
	case 9: // fyl2xp1
		b := x.get(1)
		x.pop()
		x.set(0, fromF(toF(b)*math.Log1p(toF(a))/math.Ln2))
	case 10: // fsqrt
		switch {
		case a.isNaN():
			x.set(0, a.quiet())
		case a.isZero() || a.isInf() && !a.neg():
		case a.neg():
			x.Status |= fswIE
			x.set(0, f80Indefinite)
		default:
			s := new(big.Float).SetPrec(x.precision()).SetMode(rcMode(x.Control >> 10)).Sqrt(a.big())
			x.set(0, fromBig(s))
		}
	case 11: // fsincos
		f := toF(a)
		x.set(0, fromF(math.Sin(f)))
		x.push(fromF(math.Cos(f)))
	case 12: // frndint
		if !a.isNaN() && !a.isInf() && !a.isZero() {
			n := roundInt(a.big(), rcMode(x.Control>>10))
			r := new(big.Float).SetInt(n)
			if n.Sign() == 0 && a.neg() {
				r.Neg(r)
			}
			x.set(0, fromBig(r))
		}
	case 13: // fscale
		b := x.get(1)
		switch {
		case a.isNaN() || b.isNaN():
			r, _ := nanResult(a, b)
			x.set(0, r)
		case b.isInf() || a.isInf() || a.isZero():
			if b.isInf() && (a.isZero() && !b.neg() || a.isInf() && b.neg()) {
				x.Status |= fswIE
				x.set(0, f80Indefinite)
			} else if b.isInf() && !a.isZero() && !a.isInf() {
				if b.neg() {
					x.set(0, f80Zero(a.neg()))
				} else {
					x.set(0, f80Inf(a.neg()))
				}
			}
		default:
			n, _ := new(big.Float).SetMode(big.ToZero).Set(b.big()).Int64()
			n = max(-1<<20, min(1<<20, n))
			v := a.big()
			x.set(0, x.round(v.SetMantExp(v, int(n))))
		}
	case 14: // fsin
		x.set(0, fromF(math.Sin(toF(a))))
	case 15: // fcos
		x.set(0, fromF(math.Cos(toF(a))))
	}
	return stepNext
}

// x87Prem is fprem (truncating quotient) and fprem1 (nearest): ST(0) =
// ST(0) - Q×ST(1), partially when the exponents are 64 or more apart
// (C2 set), with Q's low three bits in C0, C3, C1.
func (c *CPU) x87Prem(nearest bool) {
	x := &c.X87
	a, b := x.get(0), x.get(1)
	if r, ok := nanResult(a, b); ok {
		x.set(0, r)
		return
	}
	if a.isInf() || b.isZero() {
		x.Status |= fswIE
		x.set(0, f80Indefinite)
		return
	}
	if b.isInf() || a.isZero() {
		x.setCC(0)
		return
	}
	ab, bb := a.big(), b.big()
	d := ab.MantExp(nil) - bb.MantExp(nil)
	if d >= 64 {
		// Partial: reduce by a multiple of ST(1)×2^(d-32).
		scale := d - 32
		sb := new(big.Float).SetMantExp(bb, scale)
		q := roundInt(new(big.Float).SetPrec(300).Quo(ab, sb), big.ToZero)
		r := new(big.Float).SetPrec(300).Sub(ab, new(big.Float).SetPrec(300).Mul(new(big.Float).SetInt(q), sb))
		x.set(0, fromBig(r))
		x.setCC(fswC2)
		return
	}
	mode := big.ToZero
	if nearest {
		mode = big.ToNearestEven
	}
	q := roundInt(new(big.Float).SetPrec(300).Quo(ab, bb), mode)
	r := new(big.Float).SetPrec(300).Sub(ab, new(big.Float).SetPrec(300).Mul(new(big.Float).SetInt(q), bb))
	var res Float80
	if r.Sign() == 0 {
		res = f80Zero(a.neg())
	} else {
		res = fromBig(r)
	}
	x.set(0, res)
	qa := new(big.Int).Abs(q)
	var cc uint16
	if qa.Bit(2) != 0 {
		cc |= fswC0
	}
	if qa.Bit(1) != 0 {
		cc |= fswC3
	}
	if qa.Bit(0) != 0 {
		cc |= fswC1
	}
	x.Status = x.Status&^(fswC3|fswC2|fswC1|fswC0) | cc
}

// fullTag computes the two-bit tag word of fnstenv/fnsave.
func (x *X87) fullTag() uint16 {
	var t uint16
	for r := 0; r < 8; r++ {
		var v uint16 = 3
		if x.Tag>>r&1 != 0 {
			f := x.ST[r]
			switch {
			case f.isZero():
				v = 1
			case f.exp() == 0x7fff || f.exp() == 0 || f.Mantissa>>63 == 0:
				v = 2
			default:
				v = 0
			}
		}
		t |= v << (2 * r)
	}
	return t
}

// x87Env is fldenv, fnstenv, frstor and fnsave in their 32-bit
// protected-mode layout (28-byte environment, then 8 registers of 10
// bytes in stack order for the save forms).
func (c *CPU) x87Env(addr uint64, op uint8, reg int) int {
	x := &c.X87
	save := reg == 6
	full := op == 5
	size := 28
	if full {
		size += 80
	}
	b := make([]byte, size)
	if save {
		le.PutUint32(b[0:], uint32(x.Control)|0xffff0000)
		le.PutUint32(b[4:], uint32(x.Status)|0xffff0000)
		le.PutUint32(b[8:], uint32(x.fullTag())|0xffff0000)
		le.PutUint32(b[12:], uint32(x.IP))
		le.PutUint32(b[16:], uint32(x.Opcode)<<16)
		le.PutUint32(b[20:], uint32(x.DP))
		if full {
			for i := 0; i < 8; i++ {
				v := *x.st(i)
				le.PutUint64(b[28+10*i:], v.Mantissa)
				le.PutUint16(b[36+10*i:], v.SignExp)
			}
		}
		if !c.writeSlow(addr, b) {
			return stepExit
		}
		// fnstenv masks all exceptions; fnsave reinitializes.
		if full {
			*x = X87{Control: 0x37f}
		} else {
			x.Control |= 0x3f
		}
		return stepNext
	}
	if !c.readSlow(addr, b) {
		return stepExit
	}
	x.Control = le.Uint16(b[0:])
	x.Status = le.Uint16(b[4:])
	tag := le.Uint16(b[8:])
	x.Tag = 0
	for r := 0; r < 8; r++ {
		if tag>>(2*r)&3 != 3 {
			x.Tag |= 1 << r
		}
	}
	x.IP = uint64(le.Uint32(b[12:]))
	x.Opcode = uint16(le.Uint32(b[16:]) >> 16 & 0x7ff)
	x.DP = uint64(le.Uint32(b[20:]))
	if full {
		for i := 0; i < 8; i++ {
			x.st(i).Mantissa = le.Uint64(b[28+10*i:])
			x.st(i).SignExp = le.Uint16(b[36+10*i:])
		}
	}
	return stepNext
}

// x87BCD is fbld and fbstp: 18 packed decimal digits and a sign byte.
func (c *CPU) x87BCD(addr uint64, store bool) int {
	x := &c.X87
	var b [10]byte
	if store {
		v := x.get(0)
		n := new(big.Int)
		if v.isNaN() || v.isInf() {
			x.Status |= fswIE
			b = [10]byte{8: 0xc0, 9: 0xff}
			b[7] = 0xff
		} else {
			n = roundInt(v.big(), rcMode(x.Control>>10))
			a := new(big.Int).Abs(n)
			if a.Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)) >= 0 {
				x.Status |= fswIE
				b = [10]byte{7: 0xc0, 8: 0xff, 9: 0xff}
			} else {
				s := a.Text(10)
				for i := 0; i < len(s); i++ {
					d := s[len(s)-1-i] - '0'
					b[i/2] |= d << (4 * (i % 2))
				}
				if n.Sign() < 0 || v.neg() {
					b[9] = 0x80
				}
			}
		}
		if !c.writeSlow(addr, b[:]) {
			return stepExit
		}
		x.pop()
		return stepNext
	}
	if !c.readSlow(addr, b[:]) {
		return stepExit
	}
	var n int64
	for i := 8; i >= 0; i-- {
		n = n*100 + int64(b[i]>>4)*10 + int64(b[i]&0xf)
	}
	f := new(big.Float).SetInt64(n)
	if b[9]&0x80 != 0 {
		f.Neg(f)
	}
	x.push(fromBig(f))
	return stepNext
}
