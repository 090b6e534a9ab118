package amd64

// mxcsrMask is the MXCSR bits software may set (fxsave's MXCSR_MASK):
// flags, masks, rounding control, flush-to-zero and denormals-are-zero.
const mxcsrMask = 0xffff

// fxsaveSize is the size of the fxsave area.
const fxsaveSize = 512

// fpState serves fxsave, fxrstor, ldmxcsr and stmxcsr.
func (c *CPU) fpState(in *inst) int {
	addr := c.ea(in)
	switch in.op {
	case opLdmxcsr:
		v, ok := c.load(addr, 4)
		if !ok {
			return stepExit
		}
		if v&^mxcsrMask != 0 {
			c.exit = Exit{Reason: ExitGeneralProtection}
			return stepExit
		}
		c.MXCSR = uint32(v)
	case opStmxcsr:
		if !c.store(addr, 4, uint64(c.MXCSR)) {
			return stepExit
		}
	case opFxsave:
		if addr&15 != 0 {
			c.exit = Exit{Reason: ExitGeneralProtection}
			return stepExit
		}
		var b [fxsaveSize]byte
		c.FXSave(&b)
		if !c.writeSlow(addr, b[:]) {
			return stepExit
		}
	case opFxrstor:
		if addr&15 != 0 {
			c.exit = Exit{Reason: ExitGeneralProtection}
			return stepExit
		}
		var b [fxsaveSize]byte
		if !c.readSlow(addr, b[:]) {
			return stepExit
		}
		if !c.FXRstor(&b) {
			c.exit = Exit{Reason: ExitGeneralProtection}
			return stepExit
		}
	}
	return stepNext
}

// FXSave stores the x87 and SSE state in the fxsave layout (the layout
// of a signal frame's fpstate too).
func (c *CPU) FXSave(b *[fxsaveSize]byte) {
	x := &c.X87
	le.PutUint16(b[0:], x.Control)
	le.PutUint16(b[2:], x.Status)
	b[4] = x.Tag
	le.PutUint16(b[6:], x.Opcode)
	le.PutUint64(b[8:], x.IP)
	le.PutUint64(b[16:], x.DP)
	le.PutUint32(b[24:], c.MXCSR)
	le.PutUint32(b[28:], mxcsrMask)
	top := x.top()
	for i := 0; i < 8; i++ {
		r := &x.ST[(top+i)&7]
		le.PutUint64(b[32+16*i:], r.Mantissa)
		le.PutUint16(b[40+16*i:], r.SignExp)
	}
	for i := range c.XMM {
		le.PutUint64(b[160+16*i:], c.XMM[i][0])
		le.PutUint64(b[168+16*i:], c.XMM[i][1])
	}
}

// FXRstor loads the state FXSave stored. It reports false, loading
// nothing, when the MXCSR image sets reserved bits.
func (c *CPU) FXRstor(b *[fxsaveSize]byte) bool {
	mxcsr := le.Uint32(b[24:])
	if mxcsr&^mxcsrMask != 0 {
		return false
	}
	x := &c.X87
	x.Control = le.Uint16(b[0:])
	x.Status = le.Uint16(b[2:])
	x.Tag = b[4]
	x.Opcode = le.Uint16(b[6:])
	x.IP = le.Uint64(b[8:])
	x.DP = le.Uint64(b[16:])
	c.MXCSR = mxcsr
	top := x.top()
	for i := 0; i < 8; i++ {
		r := &x.ST[(top+i)&7]
		r.Mantissa = le.Uint64(b[32+16*i:])
		r.SignExp = le.Uint16(b[40+16*i:])
	}
	for i := range c.XMM {
		c.XMM[i][0] = le.Uint64(b[160+16*i:])
		c.XMM[i][1] = le.Uint64(b[168+16*i:])
	}
	return true
}

// top returns the x87 stack top (FSW bits 11-13).
func (x *X87) top() int { return int(x.Status>>11) & 7 }
