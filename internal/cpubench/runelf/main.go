// Command runelf runs a static riscv64 Linux executable on the emulator's
// interpreter with the guestos shim, copies the guest's stdout and stderr,
// and reports the instruction count, time and MIPS on stderr. It builds
// natively and for GOOS=wasip1.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/wasmrt/wasmrt/internal/cpubench/guestos"
)

func main() { os.Exit(doMain(os.Args[1:])) }

func doMain(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: runelf PROGRAM [ARG...]")
		return 2
	}
	image, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "runelf:", err)
		return 1
	}
	p, err := guestos.Load(image, args, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runelf: load %s: %v\n", args[0], err)
		return 1
	}
	p.Stdout, p.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	code, err := p.Run(1 << 40)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runelf: %s: %v\n", args[0], err)
		return 1
	}
	n := p.Instructions()
	fmt.Fprintf(os.Stderr, "runelf: %d instructions in %.3f s: %.1f MIPS\n", n, elapsed.Seconds(), float64(n)/elapsed.Seconds()/1e6)
	if calls := p.TranslatedCalls(); calls > 0 {
		fmt.Fprintf(os.Stderr, "runelf: %d calls into translated code\n", calls)
	}
	return code
}
