// Command translateelf translates a static riscv64 executable to
// WebAssembly (riscv64.TranslateELF) and links the result into runelf's
// module, so that the CPU benchmark and the differential tests run the
// program's translated code: translateelf RUNELF.wasm PROGRAM OUT.wasm.
package main

import (
	"fmt"
	"os"

	"github.com/wasmrt/wasmrt/internal/cpubench/xlate"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: translateelf RUNELF.wasm PROGRAM OUT.wasm")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "translateelf:", err)
		os.Exit(1)
	}
}

func run(modulePath, programPath, outPath string) error {
	module, err := os.ReadFile(modulePath)
	if err != nil {
		return err
	}
	program, err := os.ReadFile(programPath)
	if err != nil {
		return err
	}
	out, n, err := xlate.Module(module, program)
	if err != nil {
		return fmt.Errorf("%s: %w", programPath, err)
	}
	fmt.Fprintf(os.Stderr, "translateelf: %d pages translated, module %d → %d bytes\n", n, len(module), len(out))
	tmp := outPath + ".tmp"
	if err := os.WriteFile(tmp, out, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, outPath)
}
