package riscv64

// execAtomic executes an A-extension instruction. On a fault it records the
// exit in c.exit and returns false; the instruction then had no effect.
func (c *CPU) execAtomic(in *inst) bool {
	addr := c.X[in.rs1&31]
	src := c.X[in.rs2&31]
	double := in.fop&1 == 1
	size := uint64(4)
	if double {
		size = 8
	}
	access := AccessWrite
	if in.fop == aLrW || in.fop == aLrD {
		access = AccessRead
	}
	if addr&(size-1) != 0 {
		c.exit = Exit{Reason: ExitFault, Access: access, Cause: CauseMisaligned, Addr: addr}
		return false
	}
	signExt := func(v uint64) uint64 {
		if double {
			return v
		}
		return uint64(int64(int32(v)))
	}
	var result uint64
	switch in.fop {
	case aLrW, aLrD:
		v, ok := c.loadSlow(addr, size)
		if !ok {
			return false
		}
		c.reservation = reservation{valid: true, addr: addr, value: v}
		result = signExt(v)
	case aScW, aScD:
		r := c.reservation
		c.reservation.valid = false
		result = 1
		if r.valid && r.addr == addr {
			data, cause := c.Mem.writablePage(addr)
			if cause != CauseNone {
				c.exit = Exit{Reason: ExitFault, Access: AccessWrite, Cause: cause, Addr: addr}
				return false
			}
			if load(data, addr, size) == r.value {
				store(data, addr, size, src)
				result = 0
			}
		}
	default:
		data, cause := c.Mem.writablePage(addr)
		if cause != CauseNone {
			c.exit = Exit{Reason: ExitFault, Access: AccessWrite, Cause: cause, Addr: addr}
			return false
		}
		old := signExt(load(data, addr, size))
		store(data, addr, size, amo(in.fop&^1, old, signExt(src)))
		result = old
	}
	c.X[in.rd&31] = result
	c.X[0] = 0
	return true
}

// amo computes the new memory value of a read-modify-write atomic. Both
// operands are sign-extended to 64 bits for the word forms, which makes
// the signed and unsigned comparisons right for them too.
func amo(op uint8, old, src uint64) uint64 {
	switch op {
	case aSwapW:
		return src
	case aAddW:
		return old + src
	case aXorW:
		return old ^ src
	case aAndW:
		return old & src
	case aOrW:
		return old | src
	case aMinW:
		if int64(src) < int64(old) {
			return src
		}
	case aMaxW:
		if int64(src) > int64(old) {
			return src
		}
	case aMinuW:
		if src < old {
			return src
		}
	case aMaxuW:
		if src > old {
			return src
		}
	}
	return old
}

func load(data *[PageSize]byte, addr, size uint64) uint64 {
	if size == 4 {
		return ld32(data, addr)
	}
	return ld64(data, addr)
}

func store(data *[PageSize]byte, addr, size, v uint64) {
	if size == 4 {
		st32(data, addr, v)
		return
	}
	st64(data, addr, v)
}
