package amd64

// maxRepeat bounds the iterations a repeated string instruction makes
// before Run gets to check its budget.
const maxRepeat = 1 << 14

// str executes movs, cmps, stos, lods and scas, with a rep, repe or repne
// prefix when present. rsi's segment may be overridden (fs, gs); rdi's
// is always es, whose base is 0.
func (c *CPU) str(in *inst) int {
	size := in.osz
	step := uint64(size)
	if c.flags&FlagDF != 0 {
		step = -step
	}
	amask := ^uint64(0)
	if in.addr32 {
		amask = 0xffffffff
	}
	var srcBase uint64
	switch in.seg {
	case segFS:
		srcBase = c.FSBase
	case segGS:
		srcBase = c.GSBase
	}
	rep := in.rep != repNone
	for n := 0; ; n++ {
		if rep {
			if c.R[RCX]&amask == 0 {
				return stepNext
			}
			if n == maxRepeat {
				c.RIP -= uint64(in.len)
				return stepAgain
			}
		}
		si, di := c.R[RSI]&amask, c.R[RDI]&amask
		switch in.op {
		case opMovs:
			v, ok := c.load(srcBase+si, size)
			if !ok || !c.store(di, size, v) {
				return stepExit
			}
			c.advance(RSI, step, amask)
			c.advance(RDI, step, amask)
		case opStos:
			if !c.store(di, size, c.R[RAX]) {
				return stepExit
			}
			c.advance(RDI, step, amask)
		case opLods:
			v, ok := c.load(srcBase+si, size)
			if !ok {
				return stepExit
			}
			c.setReg(RAX, size, true, v)
			c.advance(RSI, step, amask)
		case opCmps, opScas:
			var a uint64
			if in.op == opCmps {
				var ok bool
				if a, ok = c.load(srcBase+si, size); !ok {
					return stepExit
				}
			} else {
				a = c.reg(RAX, size, true)
			}
			b, ok := c.load(di, size)
			if !ok {
				return stepExit
			}
			c.setLazy(lazySub, size, a, b, a-b, 0)
			if in.op == opCmps {
				c.advance(RSI, step, amask)
			}
			c.advance(RDI, step, amask)
			if rep {
				c.R[RCX] = (c.R[RCX] - 1) & amask
				eq := a&sizeMask(size) == b
				if in.rep == repF3 && !eq || in.rep == repF2 && eq {
					return stepNext
				}
				continue
			}
		}
		if !rep {
			return stepNext
		}
		c.R[RCX] = (c.R[RCX] - 1) & amask
	}
}

// advance adds step to a string register, within the address size: with
// 32-bit addresses the register is written as esi, edi or ecx are, which
// clears its upper half.
func (c *CPU) advance(r int, step, amask uint64) {
	c.R[r] = (c.R[r] + step) & amask
}
