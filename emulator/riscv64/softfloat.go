package riscv64

import (
	"math"
	"math/bits"
)

// IEEE 754 binary32 and binary64 arithmetic in integer code, with all five
// RISC-V rounding modes, exact exception flags (tininess detected after
// rounding, as RISC-V specifies) and RISC-V's canonical-NaN results. The
// host FPU cannot be used directly: Go has no way to select the rounding
// mode or read the exception flags.

// Exception flags, as laid out in fflags.
const (
	flagNX = 1 << iota // inexact
	flagUF             // underflow
	flagOF             // overflow
	flagDZ             // divide by zero
	flagNV             // invalid operation
)

// Rounding modes, as encoded in frm and in the rm field.
const (
	rmRNE = 0 // to nearest, ties to even
	rmRTZ = 1 // toward zero
	rmRDN = 2 // down
	rmRUP = 3 // up
	rmRMM = 4 // to nearest, ties away from zero
	rmDYN = 7 // use frm
)

// ffmt describes a binary floating-point format.
type ffmt struct {
	expBits  uint
	fracBits uint
}

var (
	f32 = ffmt{expBits: 8, fracBits: 23}
	f64 = ffmt{expBits: 11, fracBits: 52}
)

func (f ffmt) bias() int        { return 1<<(f.expBits-1) - 1 }
func (f ffmt) signBit() uint64  { return 1 << (f.expBits + f.fracBits) }
func (f ffmt) expMask() uint64  { return (1<<f.expBits - 1) << f.fracBits }
func (f ffmt) fracMask() uint64 { return 1<<f.fracBits - 1 }
func (f ffmt) quietBit() uint64 { return 1 << (f.fracBits - 1) }
func (f ffmt) canonicalNaN() uint64 {
	return f.expMask() | f.quietBit()
}
func (f ffmt) inf(sign bool) uint64 {
	return f.expMask() | f.signOf(sign)
}
func (f ffmt) maxFinite(sign bool) uint64 {
	return f.signOf(sign) | (f.expMask() - (1 << f.fracBits)) | f.fracMask()
}
func (f ffmt) zero(sign bool) uint64 { return f.signOf(sign) }
func (f ffmt) signOf(sign bool) uint64 {
	if sign {
		return f.signBit()
	}
	return 0
}

// Operand classes.
const (
	clsZero = iota
	clsFinite
	clsInf
	clsQNaN
	clsSNaN
)

// unpacked is a finite non-zero value sig × 2^(exp-63), with sig
// normalized (bit 63 set): exp is the exponent of the leading one.
type unpacked struct {
	sign bool
	exp  int
	sig  uint64
}

func (f ffmt) unpack(v uint64) (int, unpacked) {
	sign := v&f.signBit() != 0
	e := int((v & f.expMask()) >> f.fracBits)
	frac := v & f.fracMask()
	switch {
	case e == 1<<f.expBits-1:
		if frac == 0 {
			return clsInf, unpacked{sign: sign}
		}
		if frac&f.quietBit() != 0 {
			return clsQNaN, unpacked{sign: sign}
		}
		return clsSNaN, unpacked{sign: sign}
	case e == 0:
		if frac == 0 {
			return clsZero, unpacked{sign: sign}
		}
		lz := bits.LeadingZeros64(frac)
		return clsFinite, unpacked{sign: sign, sig: frac << lz, exp: 1 - f.bias() - int(f.fracBits) + 63 - lz}
	}
	return clsFinite, unpacked{sign: sign, sig: (frac | 1<<f.fracBits) << (63 - f.fracBits), exp: e - f.bias()}
}

func isNaN(cls int) bool { return cls >= clsQNaN }

// nanResult is the result of an operation with a NaN operand: the
// canonical NaN, with NV if any operand was signaling.
func (f ffmt) nanResult(classes ...int) (uint64, uint32) {
	var flags uint32
	for _, c := range classes {
		if c == clsSNaN {
			flags = flagNV
		}
	}
	return f.canonicalNaN(), flags
}

// Rounding remainders, compared to half of the last kept unit.
const (
	remExact = iota
	remBelowHalf
	remHalf
	remAboveHalf
)

// shiftRound splits sig into the bits kept after dropping shift low bits
// and a classification of the dropped bits.
func shiftRound(sig uint64, shift int) (uint64, int) {
	switch {
	case shift <= 0:
		return sig, remExact
	case shift < 64:
		rem := sig & (1<<shift - 1)
		half := uint64(1) << (shift - 1)
		kept := sig >> shift
		switch {
		case rem == 0:
			return kept, remExact
		case rem < half:
			return kept, remBelowHalf
		case rem == half:
			return kept, remHalf
		}
		return kept, remAboveHalf
	case shift == 64:
		switch {
		case sig == 0:
			return 0, remExact
		case sig < 1<<63:
			return 0, remBelowHalf
		case sig == 1<<63:
			return 0, remHalf
		}
		return 0, remAboveHalf
	}
	if sig == 0 {
		return 0, remExact
	}
	return 0, remBelowHalf
}

// roundsUp reports whether a value with the given sign, kept bits and
// remainder class rounds away from zero in mode rm.
func roundsUp(rm uint8, sign bool, kept uint64, rem int) bool {
	switch rm {
	case rmRNE:
		return rem == remAboveHalf || rem == remHalf && kept&1 == 1
	case rmRMM:
		return rem >= remHalf
	case rmRDN:
		return rem != remExact && sign
	case rmRUP:
		return rem != remExact && !sign
	}
	return false
}

// roundPack rounds sign × sig × 2^(exp-63) (sig normalized, with any
// discarded lower bits ORed into bit 0) to format f in mode rm.
func (f ffmt) roundPack(sign bool, exp int, sig uint64, rm uint8) (uint64, uint32) {
	p := int(f.fracBits) + 1
	emin := 1 - f.bias()
	var flags uint32
	shift := 64 - p
	tiny := exp < emin
	if tiny {
		shift += emin - exp
		// Tininess after rounding: a value just below 2^emin that rounds
		// up to it at full precision is not tiny.
		if exp == emin-1 {
			kept, rem := shiftRound(sig, 64-p)
			if roundsUp(rm, sign, kept, rem) && kept+1 == 1<<p {
				tiny = false
			}
		}
	}
	kept, rem := shiftRound(sig, shift)
	if rem != remExact {
		flags |= flagNX
		if tiny {
			flags |= flagUF
		}
	}
	if roundsUp(rm, sign, kept, rem) {
		kept++
	}
	if exp < emin {
		// Subnormal (or zero); a carry into bit p-1 yields the smallest
		// normal number, whose encoding is exactly kept.
		return f.signOf(sign) | kept, flags
	}
	if kept == 1<<p {
		kept >>= 1
		exp++
	}
	if exp > f.bias() {
		flags |= flagOF | flagNX
		switch {
		case rm == rmRTZ, rm == rmRDN && !sign, rm == rmRUP && sign:
			return f.maxFinite(sign), flags
		}
		return f.inf(sign), flags
	}
	return f.signOf(sign) | uint64(exp+f.bias())<<f.fracBits | kept&f.fracMask(), flags
}

func shiftRightJam(v uint64, n int) uint64 {
	switch {
	case n <= 0:
		return v
	case n < 64:
		r := v >> n
		if v<<(64-n) != 0 {
			r |= 1
		}
		return r
	}
	if v != 0 {
		return 1
	}
	return 0
}

// exactZero is the sign of an exact zero sum of operands of opposite signs.
func exactZero(f ffmt, rm uint8) uint64 {
	return f.zero(rm == rmRDN)
}

func (f ffmt) add(a, b uint64, rm uint8) (uint64, uint32) {
	ca, ua := f.unpack(a)
	cb, ub := f.unpack(b)
	switch {
	case isNaN(ca) || isNaN(cb):
		return f.nanResult(ca, cb)
	case ca == clsInf && cb == clsInf:
		if ua.sign != ub.sign {
			return f.canonicalNaN(), flagNV
		}
		return a, 0
	case ca == clsInf:
		return a, 0
	case cb == clsInf:
		return b, 0
	case ca == clsZero && cb == clsZero:
		if ua.sign == ub.sign {
			return a, 0
		}
		return exactZero(f, rm), 0
	case ca == clsZero:
		return b, 0
	case cb == clsZero:
		return a, 0
	}
	return f.addUnpacked(ua, ub, rm)
}

func (f ffmt) addUnpacked(ua, ub unpacked, rm uint8) (uint64, uint32) {
	// Order by magnitude so that a subtraction cannot go negative.
	if ub.exp > ua.exp || ub.exp == ua.exp && ub.sig > ua.sig {
		ua, ub = ub, ua
	}
	x := ua.sig >> 1 // unpacked significands have at most 53 bits: no loss
	y := shiftRightJam(ub.sig>>1, ua.exp-ub.exp)
	var s uint64
	if ua.sign == ub.sign {
		s = x + y
	} else {
		s = x - y
		if s == 0 {
			return exactZero(f, rm), 0
		}
	}
	lz := bits.LeadingZeros64(s)
	return f.roundPack(ua.sign, ua.exp+1-lz, s<<lz, rm)
}

func (f ffmt) mul(a, b uint64, rm uint8) (uint64, uint32) {
	ca, ua := f.unpack(a)
	cb, ub := f.unpack(b)
	sign := ua.sign != ub.sign
	switch {
	case isNaN(ca) || isNaN(cb):
		return f.nanResult(ca, cb)
	case ca == clsInf && cb == clsZero, ca == clsZero && cb == clsInf:
		return f.canonicalNaN(), flagNV
	case ca == clsInf || cb == clsInf:
		return f.inf(sign), 0
	case ca == clsZero || cb == clsZero:
		return f.zero(sign), 0
	}
	hi, lo := bits.Mul64(ua.sig, ub.sig)
	lz := bits.LeadingZeros64(hi)
	hi = hi<<lz | lo>>(64-lz)
	lo <<= lz
	if lo != 0 {
		hi |= 1
	}
	return f.roundPack(sign, ua.exp+ub.exp+1-lz, hi, rm)
}

func (f ffmt) div(a, b uint64, rm uint8) (uint64, uint32) {
	ca, ua := f.unpack(a)
	cb, ub := f.unpack(b)
	sign := ua.sign != ub.sign
	switch {
	case isNaN(ca) || isNaN(cb):
		return f.nanResult(ca, cb)
	case ca == clsInf && cb == clsInf, ca == clsZero && cb == clsZero:
		return f.canonicalNaN(), flagNV
	case ca == clsInf:
		return f.inf(sign), 0
	case cb == clsInf:
		return f.zero(sign), 0
	case cb == clsZero:
		return f.inf(sign), flagDZ
	case ca == clsZero:
		return f.zero(sign), 0
	}
	q, r := bits.Div64(ua.sig>>1, 0, ub.sig)
	lz := bits.LeadingZeros64(q)
	q <<= lz
	if r != 0 {
		q |= 1
	}
	return f.roundPack(sign, ua.exp-ub.exp-lz, q, rm)
}

func (f ffmt) sqrt(a uint64, rm uint8) (uint64, uint32) {
	ca, ua := f.unpack(a)
	switch {
	case isNaN(ca):
		return f.nanResult(ca)
	case ca == clsZero:
		return a, 0
	case ua.sign:
		return f.canonicalNaN(), flagNV
	case ca == clsInf:
		return a, 0
	}
	// value = M × 2^t with M a 128-bit integer of 127 or 128 bits and t
	// even, so that sqrt(value) = isqrt(M) × 2^(t/2) with a 64-bit root.
	t := ua.exp - 63 - 63
	hi, lo := ua.sig>>1, ua.sig<<63
	if t&1 != 0 {
		hi, lo = ua.sig, 0
		t--
	}
	root, exact := isqrt128(hi, lo)
	lz := bits.LeadingZeros64(root)
	sig := root << lz
	if !exact {
		sig |= 1
	}
	return f.roundPack(false, 63-lz+t/2, sig, rm)
}

// isqrt128 returns floor(sqrt(hi:lo)) and whether it is exact.
func isqrt128(hi, lo uint64) (uint64, bool) {
	est := math.Sqrt(float64(hi)*0x1p64 + float64(lo))
	r := uint64(math.MaxUint64)
	if est < 0x1p64 {
		r = max(uint64(est), 1)
	}
	// One Newton step from the float estimate, then exact correction.
	if hi < r {
		q, _ := bits.Div64(hi, lo, r)
		sum, carry := bits.Add64(r, q, 0)
		r = sum>>1 | carry<<63
	}
	cmp := func(r uint64) int { // compares r*r with hi:lo
		sh, sl := bits.Mul64(r, r)
		switch {
		case sh > hi || sh == hi && sl > lo:
			return 1
		case sh == hi && sl == lo:
			return 0
		}
		return -1
	}
	for cmp(r) > 0 {
		r--
	}
	for r < math.MaxUint64 && cmp(r+1) <= 0 {
		r++
	}
	return r, cmp(r) == 0
}

// fma computes ±(a × b) ± c with a single rounding.
func (f ffmt) fma(a, b, c uint64, negProduct, negAddend bool, rm uint8) (uint64, uint32) {
	ca, ua := f.unpack(a)
	cb, ub := f.unpack(b)
	cc, uc := f.unpack(c)
	invalidProduct := ca == clsInf && cb == clsZero || ca == clsZero && cb == clsInf
	if isNaN(ca) || isNaN(cb) || isNaN(cc) {
		v, flags := f.nanResult(ca, cb, cc)
		if invalidProduct {
			flags |= flagNV
		}
		return v, flags
	}
	if invalidProduct {
		return f.canonicalNaN(), flagNV
	}
	psign := ua.sign != ub.sign != negProduct
	csign := uc.sign != negAddend
	switch {
	case ca == clsInf || cb == clsInf:
		if cc == clsInf && csign != psign {
			return f.canonicalNaN(), flagNV
		}
		return f.inf(psign), 0
	case cc == clsInf:
		return f.inf(csign), 0
	case ca == clsZero || cb == clsZero:
		if cc == clsZero {
			if psign == csign {
				return f.zero(psign), 0
			}
			return exactZero(f, rm), 0
		}
		return c ^ f.signOf(negAddend), 0
	}
	// Exact product as a 128-bit significand with its leading one at bit
	// 126, exponent pexp.
	ph, pl := bits.Mul64(ua.sig, ub.sig) // leading one at bit 126 or 127
	pexp := ua.exp + ub.exp + 1
	if ph>>63 == 0 {
		pexp--
	} else {
		pl = pl>>1 | ph<<63
		ph >>= 1
		// The dropped bit is zero: significands have at most 53 bits, so
		// the product has at most 106.
	}
	if cc == clsZero {
		lz := bits.LeadingZeros64(ph)
		sig := ph<<lz | pl>>(64-lz)
		if pl<<lz != 0 {
			sig |= 1
		}
		return f.roundPack(psign, pexp+1-lz, sig, rm)
	}
	ch, cl := uc.sig>>1, uc.sig<<63
	cexp := uc.exp
	// Order by magnitude.
	bigH, bigL, bigE, bigS := ph, pl, pexp, psign
	smH, smL, smE := ch, cl, cexp
	if cexp > pexp || cexp == pexp && (ch > ph || ch == ph && cl > pl) {
		bigH, bigL, bigE, bigS = ch, cl, cexp, csign
		smH, smL, smE = ph, pl, pexp
	}
	smH, smL = shiftRightJam128(smH, smL, bigE-smE)
	var sh, sl uint64
	if psign == csign {
		var carry uint64
		sl, carry = bits.Add64(bigL, smL, 0)
		sh, _ = bits.Add64(bigH, smH, carry)
	} else {
		var borrow uint64
		sl, borrow = bits.Sub64(bigL, smL, 0)
		sh, _ = bits.Sub64(bigH, smH, borrow)
		if sh == 0 && sl == 0 {
			return exactZero(f, rm), 0
		}
	}
	var lz int
	if sh != 0 {
		lz = bits.LeadingZeros64(sh)
		sh = sh<<lz | sl>>(64-lz)
		sl <<= lz
	} else {
		lz = 64 + bits.LeadingZeros64(sl)
		sh = sl << (lz - 64)
		sl = 0
	}
	if sl != 0 {
		sh |= 1
	}
	return f.roundPack(bigS, bigE+1-lz, sh, rm)
}

func shiftRightJam128(hi, lo uint64, n int) (uint64, uint64) {
	switch {
	case n <= 0:
		return hi, lo
	case n < 64:
		sticky := lo<<(64-n) != 0
		lo = lo>>n | hi<<(64-n)
		hi >>= n
		if sticky {
			lo |= 1
		}
		return hi, lo
	case n < 128:
		sticky := lo != 0 || hi<<(128-n) != 0
		lo = hi >> (n - 64)
		if sticky {
			lo |= 1
		}
		return 0, lo
	}
	if hi != 0 || lo != 0 {
		return 0, 1
	}
	return 0, 0
}

// toInt converts to a signed or unsigned integer of width 32 or 64 bits,
// rounding in mode rm. Out-of-range values and NaNs saturate with NV, as
// RISC-V specifies. 32-bit results are sign-extended to 64 bits.
func (f ffmt) toInt(a uint64, rm uint8, signed bool, width uint) (uint64, uint32) {
	cls, u := f.unpack(a)
	var maxPos, maxNeg uint64 // magnitudes of the range limits
	if signed {
		maxPos, maxNeg = 1<<(width-1)-1, 1<<(width-1)
	} else {
		maxPos, maxNeg = 1<<width-1, 0
		if width == 64 {
			maxPos = ^uint64(0)
		}
	}
	saturate := func(neg bool) (uint64, uint32) {
		v := maxPos
		if neg {
			v = -maxNeg
		}
		if width == 32 {
			v = uint64(int64(int32(v)))
		}
		return v, flagNV
	}
	switch cls {
	case clsQNaN, clsSNaN:
		return saturate(false)
	case clsInf:
		return saturate(u.sign)
	case clsZero:
		return 0, 0
	}
	if u.exp > 63 {
		return saturate(u.sign)
	}
	kept, rem := shiftRound(u.sig, 63-u.exp)
	if roundsUp(rm, u.sign, kept, rem) {
		kept++
		if kept == 0 { // wrapped past 2^64-1
			return saturate(u.sign)
		}
	}
	if !u.sign && kept > maxPos || u.sign && kept > maxNeg {
		return saturate(u.sign)
	}
	v := kept
	if u.sign {
		v = -kept
	}
	if width == 32 {
		v = uint64(int64(int32(v)))
	}
	var flags uint32
	if rem != remExact {
		flags = flagNX
	}
	return v, flags
}

// fromInt converts an integer (already sign- or zero-extended to 64 bits)
// to format f.
func (f ffmt) fromInt(v uint64, signed bool, rm uint8) (uint64, uint32) {
	sign := signed && int64(v) < 0
	if sign {
		v = -v
	}
	if v == 0 {
		return 0, 0
	}
	lz := bits.LeadingZeros64(v)
	return f.roundPack(sign, 63-lz, v<<lz, rm)
}

// convert converts a value of format from to format f.
func (f ffmt) convert(a uint64, from ffmt, rm uint8) (uint64, uint32) {
	cls, u := from.unpack(a)
	switch cls {
	case clsQNaN, clsSNaN:
		return f.nanResult(cls)
	case clsInf:
		return f.inf(u.sign), 0
	case clsZero:
		return f.zero(u.sign), 0
	}
	return f.roundPack(u.sign, u.exp, u.sig, rm)
}

// compare orders two non-NaN values: -1, 0 or 1.
func (f ffmt) compare(a, b uint64) int {
	key := func(v uint64) int64 {
		mag := int64(v &^ f.signBit())
		if v&f.signBit() != 0 {
			return -mag
		}
		return mag
	}
	ka, kb := key(a), key(b)
	switch {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return 0
}

// eq, lt and le implement feq (quiet: NV only for signaling NaNs), flt and
// fle (signaling: NV for any NaN).
func (f ffmt) eq(a, b uint64) (bool, uint32) {
	ca, _ := f.unpack(a)
	cb, _ := f.unpack(b)
	if isNaN(ca) || isNaN(cb) {
		_, flags := f.nanResult(ca, cb)
		return false, flags
	}
	return f.compare(a, b) == 0, 0
}

func (f ffmt) lt(a, b uint64) (bool, uint32) {
	ca, _ := f.unpack(a)
	cb, _ := f.unpack(b)
	if isNaN(ca) || isNaN(cb) {
		return false, flagNV
	}
	return f.compare(a, b) < 0, 0
}

func (f ffmt) le(a, b uint64) (bool, uint32) {
	ca, _ := f.unpack(a)
	cb, _ := f.unpack(b)
	if isNaN(ca) || isNaN(cb) {
		return false, flagNV
	}
	return f.compare(a, b) <= 0, 0
}

// minMax implements fmin/fmax (IEEE 754-2019 minimumNumber and
// maximumNumber): a NaN operand is ignored unless both are NaN, and -0 is
// smaller than +0.
func (f ffmt) minMax(a, b uint64, max bool) (uint64, uint32) {
	ca, _ := f.unpack(a)
	cb, _ := f.unpack(b)
	var flags uint32
	if ca == clsSNaN || cb == clsSNaN {
		flags = flagNV
	}
	switch {
	case isNaN(ca) && isNaN(cb):
		return f.canonicalNaN(), flags
	case isNaN(ca):
		return b, flags
	case isNaN(cb):
		return a, flags
	}
	c := f.compare(a, b)
	if c == 0 {
		// Equal values differ at most in the sign of zero.
		if (a&f.signBit() != 0) != max {
			return a, flags
		}
		return b, flags
	}
	if (c < 0) != max {
		return a, flags
	}
	return b, flags
}

// class implements fclass.
func (f ffmt) class(a uint64) uint64 {
	cls, u := f.unpack(a)
	neg := u.sign
	switch cls {
	case clsInf:
		if neg {
			return 1 << 0
		}
		return 1 << 7
	case clsZero:
		if neg {
			return 1 << 3
		}
		return 1 << 4
	case clsSNaN:
		return 1 << 8
	case clsQNaN:
		return 1 << 9
	}
	subnormal := a&f.expMask() == 0
	switch {
	case neg && subnormal:
		return 1 << 2
	case neg:
		return 1 << 1
	case subnormal:
		return 1 << 5
	}
	return 1 << 6
}
