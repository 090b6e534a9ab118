package riscv64

const boxMask = 0xffffffff00000000

// unboxS returns the single-precision value in a floating-point register;
// a value that is not properly NaN-boxed reads as the canonical NaN.
func unboxS(v uint64) uint64 {
	if v&boxMask != boxMask {
		return f32.canonicalNaN()
	}
	return v &^ boxMask
}

func boxS(v uint64) uint64 { return v | boxMask }

// execFP executes an F or D computation. It returns false if the
// instruction's dynamic rounding mode selects an invalid frm (illegal
// instruction).
func (c *CPU) execFP(in *inst) bool {
	rm := in.rm
	if rm == rmDYN {
		rm = uint8(c.FCSR>>5) & 7
		if rm > rmRMM {
			return false
		}
	}
	fr := &c.F
	a, b, d := fr[in.rs1&31], fr[in.rs2&31], fr[in.rs3&31]
	// Single-precision operands, unboxed.
	as, bs, ds := unboxS(a), unboxS(b), unboxS(d)
	var flags uint32
	var r uint64
	intDest := false
	setFlags := func(v uint64, fl uint32) { r, flags = v, fl }
	setBool := func(v bool, fl uint32) {
		r, flags, intDest = b2u(v), fl, true
	}
	switch in.fop {
	case fAddS:
		setFlags(f32.add(as, bs, rm))
	case fAddD:
		setFlags(f64.add(a, b, rm))
	case fSubS:
		setFlags(f32.add(as, bs^f32.signBit(), rm))
	case fSubD:
		setFlags(f64.add(a, b^f64.signBit(), rm))
	case fMulS:
		setFlags(f32.mul(as, bs, rm))
	case fMulD:
		setFlags(f64.mul(a, b, rm))
	case fDivS:
		setFlags(f32.div(as, bs, rm))
	case fDivD:
		setFlags(f64.div(a, b, rm))
	case fSqrtS:
		setFlags(f32.sqrt(as, rm))
	case fSqrtD:
		setFlags(f64.sqrt(a, rm))
	case fMaddS:
		setFlags(f32.fma(as, bs, ds, false, false, rm))
	case fMaddD:
		setFlags(f64.fma(a, b, d, false, false, rm))
	case fMsubS:
		setFlags(f32.fma(as, bs, ds, false, true, rm))
	case fMsubD:
		setFlags(f64.fma(a, b, d, false, true, rm))
	case fNmsubS:
		setFlags(f32.fma(as, bs, ds, true, false, rm))
	case fNmsubD:
		setFlags(f64.fma(a, b, d, true, false, rm))
	case fNmaddS:
		setFlags(f32.fma(as, bs, ds, true, true, rm))
	case fNmaddD:
		setFlags(f64.fma(a, b, d, true, true, rm))
	case fSgnjS:
		r = as&^f32.signBit() | bs&f32.signBit()
	case fSgnjD:
		r = a&^f64.signBit() | b&f64.signBit()
	case fSgnjnS:
		r = as&^f32.signBit() | ^bs&f32.signBit()
	case fSgnjnD:
		r = a&^f64.signBit() | ^b&f64.signBit()
	case fSgnjxS:
		r = as ^ bs&f32.signBit()
	case fSgnjxD:
		r = a ^ b&f64.signBit()
	case fMinS:
		setFlags(f32.minMax(as, bs, false))
	case fMinD:
		setFlags(f64.minMax(a, b, false))
	case fMaxS:
		setFlags(f32.minMax(as, bs, true))
	case fMaxD:
		setFlags(f64.minMax(a, b, true))
	case fEqS:
		setBool(f32.eq(as, bs))
	case fEqD:
		setBool(f64.eq(a, b))
	case fLtS:
		setBool(f32.lt(as, bs))
	case fLtD:
		setBool(f64.lt(a, b))
	case fLeS:
		setBool(f32.le(as, bs))
	case fLeD:
		setBool(f64.le(a, b))
	case fClassS:
		r, intDest = f32.class(as), true
	case fClassD:
		r, intDest = f64.class(a), true
	case fCvtWS, fCvtWD, fCvtWuS, fCvtWuD, fCvtLS, fCvtLD, fCvtLuS, fCvtLuD:
		src, f := as, f32
		if in.fop&1 == 1 {
			src, f = a, f64
		}
		signed := in.fop == fCvtWS || in.fop == fCvtWD || in.fop == fCvtLS || in.fop == fCvtLD
		width := uint(32)
		if in.fop >= fCvtLS {
			width = 64
		}
		setFlags(f.toInt(src, rm, signed, width))
		intDest = true
	case fCvtSW, fCvtDW, fCvtSWu, fCvtDWu, fCvtSL, fCvtDL, fCvtSLu, fCvtDLu:
		v := c.X[in.rs1&31]
		switch in.fop {
		case fCvtSW, fCvtDW:
			v = uint64(int64(int32(v)))
		case fCvtSWu, fCvtDWu:
			v = uint64(uint32(v))
		}
		signed := in.fop == fCvtSW || in.fop == fCvtDW || in.fop == fCvtSL || in.fop == fCvtDL
		f := f32
		if in.fop&1 == 1 {
			f = f64
		}
		setFlags(f.fromInt(v, signed, rm))
	case fCvtSD:
		setFlags(f32.convert(a, f64, rm))
	case fCvtDS:
		setFlags(f64.convert(as, f32, rm))
	case fMvXW:
		r, intDest = uint64(int64(int32(a))), true
	case fMvXD:
		r, intDest = a, true
	case fMvWX:
		r = c.X[in.rs1&31] & 0xffffffff
	case fMvDX:
		r = c.X[in.rs1&31]
	}
	c.FCSR |= flags
	switch {
	case intDest:
		c.X[in.rd&31] = r
		c.X[0] = 0
	case singleResult(in.fop):
		fr[in.rd&31] = boxS(r)
	default:
		fr[in.rd&31] = r
	}
	return true
}

// singleResult reports whether fop writes a single-precision value to a
// floating-point register.
func singleResult(fop uint8) bool {
	switch fop {
	case fCvtSD, fCvtSW, fCvtSWu, fCvtSL, fCvtSLu, fMvWX:
		return true
	case fCvtDS, fCvtDW, fCvtDWu, fCvtDL, fCvtDLu, fMvDX:
		return false
	}
	return fop < fEqS && fop&1 == 0
}
