//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux

import (
	"math/rand"
	"testing"
)

// TestSyscallsHostileArguments calls every handler with random mixes of
// plausible and absurd arguments (null, small numbers, stack and heap
// pointers, huge values) in a live process: handlers must return a result
// or an errno and never panic or corrupt the machine.
func TestSyscallsHostileArguments(t *testing.T) {
	k, task := newBusyboxKernel(t)
	k.current = task
	skip := map[string]bool{
		// These replace or end the calling task; the loader test and the
		// differential tests cover them.
		"exit": true, "exit_group": true, "execve": true, "rt_sigreturn": true,
		"clone": true, "clone3": true, "kill": true, "tkill": true, "tgkill": true,
	}
	sp := task.ctx.StackPointer()
	values := []uint64{0, 1, 2, 3, 8, 16, 64, 4096, 1 << 20, sp - 4096, sp - 64, task.proc.mm.brk,
		vdsoAddr, stackTop - 8, 0xffff_ffff, 1 << 46, 1 << 63, ^uint64(0), ^uint64(99)}
	rng := rand.New(rand.NewSource(7))
	calls := 0
	for round := 0; round < 200; round++ {
		for _, e := range k.table {
			if e.fn == nil || skip[e.name] {
				continue
			}
			var a args
			for i := range a {
				a[i] = values[rng.Intn(len(values))]
				if rng.Intn(4) == 0 {
					a[i] = rng.Uint64() >> uint(rng.Intn(64))
				}
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s(%#x) panicked: %v", e.name, a, r)
					}
				}()
				_, err := e.fn(task, a)
				if err == errBlocked {
					task.abandonWait()
				}
			}()
			calls++
			if task.exited || task.proc.mm == nil {
				t.Fatalf("round %d: %s(%#x) ended the process", round, e.name, a)
			}
		}
	}
	t.Logf("%d calls", calls)
}
