package amd64

// The SSE3 instructions (fisttp is in x87.go) and SSSE3 (0F 38 00-0B,
// 1C-1E and 0F 3A 0F, 66-prefixed: MMX register forms are not
// implemented). The rest of those maps is SSE4.1 and SSE4.2 (sse4.go).

// sse3 executes addsubps/pd, haddps/pd, hsubps/pd and lddqu.
func (c *CPU) sse3(in *inst) int {
	d := &c.XMM[in.reg]
	if in.sub == 0xf0 && in.pfx == pfxF2 { // lddqu
		if !in.mem {
			return c.illegalOp(in)
		}
		v, ok := c.srcXMM(in, false)
		if !ok {
			return stepExit
		}
		*d = v
		return stepNext
	}
	if in.sub != 0xd0 && in.sub != 0x7c && in.sub != 0x7d || in.pfx != pfx66 && in.pfx != pfxF2 {
		return c.illegalOp(in)
	}
	s, ok := c.srcXMM(in, true)
	if !ok {
		return stepExit
	}
	if in.pfx == pfx66 {
		switch in.sub {
		case 0xd0:
			*d = XMM{f64op(fSub, d[0], s[0]), f64op(fAdd, d[1], s[1])}
		case 0x7c:
			*d = XMM{f64op(fAdd, d[0], d[1]), f64op(fAdd, s[0], s[1])}
		default:
			*d = XMM{f64op(fSub, d[0], d[1]), f64op(fSub, s[0], s[1])}
		}
		return stepNext
	}
	a := [4]uint32{lane32(*d, 0), lane32(*d, 1), lane32(*d, 2), lane32(*d, 3)}
	b := [4]uint32{lane32(s, 0), lane32(s, 1), lane32(s, 2), lane32(s, 3)}
	var r [4]uint32
	switch in.sub {
	case 0xd0:
		r = [4]uint32{f32op(fSub, a[0], b[0]), f32op(fAdd, a[1], b[1]), f32op(fSub, a[2], b[2]), f32op(fAdd, a[3], b[3])}
	case 0x7c:
		r = [4]uint32{f32op(fAdd, a[0], a[1]), f32op(fAdd, a[2], a[3]), f32op(fAdd, b[0], b[1]), f32op(fAdd, b[2], b[3])}
	default:
		r = [4]uint32{f32op(fSub, a[0], a[1]), f32op(fSub, a[2], a[3]), f32op(fSub, b[0], b[1]), f32op(fSub, b[2], b[3])}
	}
	*d = XMM{uint64(r[0]) | uint64(r[1])<<32, uint64(r[2]) | uint64(r[3])<<32}
	return stepNext
}

// sse3Move executes movddup, movsldup and movshdup (the F2 and F3 forms
// of 0F 12 and 0F 16).
func (c *CPU) sse3Move(in *inst) int {
	d := &c.XMM[in.reg]
	switch {
	case in.sub == 0x12 && in.pfx == pfxF2: // movddup
		v, ok := c.srcLow(in, 8)
		if !ok {
			return stepExit
		}
		*d = XMM{v, v}
	case (in.sub == 0x12 || in.sub == 0x16) && in.pfx == pfxF3: // movsldup, movshdup
		s, ok := c.srcXMM(in, true)
		if !ok {
			return stepExit
		}
		sh := 0
		if in.sub == 0x16 {
			sh = 32
		}
		lo, hi := s[0]>>sh&0xffffffff, s[1]>>sh&0xffffffff
		*d = XMM{lo | lo<<32, hi | hi<<32}
	default:
		return c.illegalOp(in)
	}
	return stepNext
}

// sse38 executes the SSSE3 instructions of the 0F 38 map; sse4x38 the
// rest.
func (c *CPU) sse38(in *inst) int {
	if in.pfx != pfx66 || in.sub > 0x0b && (in.sub < 0x1c || in.sub > 0x1e) {
		return c.sse4x38(in)
	}
	s, ok := c.srcXMM(in, true)
	if !ok {
		return stepExit
	}
	d := &c.XMM[in.reg]
	*d = ssse3(in.sub, *d, s)
	return stepNext
}

// ssse3 computes the 0F 38 SSSE3 operation op of d and s.
func ssse3(op byte, d, s XMM) XMM {
	switch op {
	case 0x00: // pshufb
		a, b := toBytes(d), toBytes(s)
		var r [16]byte
		for i, sel := range b {
			if sel&0x80 == 0 {
				r[i] = a[sel&15]
			}
		}
		return fromBytes(r)
	case 0x01, 0x02, 0x03, 0x05, 0x06, 0x07: // phaddw/d/sw, phsubw/d/sw
		size := 2
		if op&3 == 2 {
			size = 4
		}
		a, b := lanes(d, size), lanes(s, size)
		n := 16 / size
		var r [16]uint64
		for i := 0; i < n; i++ {
			src := a
			j := 2 * i
			if i >= n/2 {
				src, j = b, 2*i-n
			}
			x, y := int64(signExtend(src[j], uint8(size))), int64(signExtend(src[j+1], uint8(size)))
			v := x + y
			if op >= 0x05 {
				v = x - y
			}
			if op&3 == 3 {
				r[i] = satS(v, 2)
			} else {
				r[i] = uint64(v)
			}
		}
		return join(r, size)
	case 0x04: // pmaddubsw
		a, b := lanes(d, 1), lanes(s, 1)
		var r [16]uint64
		for i := 0; i < 8; i++ {
			v := int64(a[2*i])*int64(int8(b[2*i])) + int64(a[2*i+1])*int64(int8(b[2*i+1]))
			r[i] = satS(v, 2)
		}
		return join(r, 2)
	case 0x08, 0x09, 0x0a: // psignb/w/d
		size := 1 << (op - 0x08)
		a, b := lanes(d, size), lanes(s, size)
		var r [16]uint64
		for i := 0; i < 16/size; i++ {
			switch sv := int64(signExtend(b[i], uint8(size))); {
			case sv < 0:
				r[i] = -a[i]
			case sv > 0:
				r[i] = a[i]
			}
		}
		return join(r, size)
	case 0x0b: // pmulhrsw
		a, b := lanes(d, 2), lanes(s, 2)
		var r [16]uint64
		for i := 0; i < 8; i++ {
			p := int64(int16(a[i])) * int64(int16(b[i]))
			r[i] = uint64((p>>14 + 1) >> 1)
		}
		return join(r, 2)
	}
	// pabsb/w/d
	size := 1 << (op - 0x1c)
	b := lanes(s, size)
	var r [16]uint64
	for i := 0; i < 16/size; i++ {
		v := int64(signExtend(b[i], uint8(size)))
		if v < 0 {
			v = -v
		}
		r[i] = uint64(v)
	}
	return join(r, size)
}

// sse3A executes palignr, the SSSE3 instruction of the 0F 3A map;
// sse4x3A the rest.
func (c *CPU) sse3A(in *inst) int {
	if in.pfx != pfx66 || in.sub != 0x0f {
		return c.sse4x3A(in)
	}
	s, ok := c.srcXMM(in, true)
	if !ok {
		return stepExit
	}
	d := &c.XMM[in.reg]
	a, b := toBytes(*d), toBytes(s)
	var cat [32]byte
	copy(cat[:16], b[:])
	copy(cat[16:], a[:])
	var r [16]byte
	for i := range r {
		if j := uint64(i) + in.imm; j < 32 {
			r[i] = cat[j]
		}
	}
	*d = fromBytes(r)
	return stepNext
}
