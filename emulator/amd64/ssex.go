package amd64

// The SSE3, SSSE3 and SSE4 instructions. CPUID does not advertise these
// extensions yet, so their encodings raise #UD as on a processor without
// them.

func (c *CPU) sse3(in *inst) int     { return c.illegalOp(in) }
func (c *CPU) sse3Move(in *inst) int { return c.illegalOp(in) }
func (c *CPU) sse38(in *inst) int    { return c.illegalOp(in) }
func (c *CPU) sse3A(in *inst) int    { return c.illegalOp(in) }
