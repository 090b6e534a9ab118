package amd64

// The SSE3 instructions (fisttp is in x87.go), and the SSSE3 and SSE4
// maps (0F 38, 0F 3A), which CPUID does not advertise yet: their
// encodings raise #UD as on a processor without them.

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

func (c *CPU) sse38(in *inst) int { return c.illegalOp(in) }
func (c *CPU) sse3A(in *inst) int { return c.illegalOp(in) }
