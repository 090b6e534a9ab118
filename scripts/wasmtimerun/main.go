// Command wasmtimerun runs a wasip1 module under wasmtime (the
// wasmtime-go embedding, whose Go module ships wasmtime's C library), the
// way internal/cpubench/wazerorun does under wazero: the current directory
// as /, arguments, stdout and stderr passed through. It is a module of its
// own so that the main module does not depend on cgo or on the library's
// 50 MB archive; scripts/bench-cpu.sh builds it for its wasmtime rows. It
// reports the compile (or cache load) time on stderr.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmtimerun MODULE.wasm [ARG...]")
		return 2
	}
	bin, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun:", err)
		return 1
	}
	// wasmtime's own compilation cache (~/.cache/wasmtime), as its CLI
	// uses by default: the first run compiles, the next ones load.
	config := wasmtime.NewConfig()
	if err := config.CacheConfigLoadDefault(); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun: compilation cache:", err)
		return 1
	}
	engine := wasmtime.NewEngineWithConfig(config)
	start := time.Now()
	module, err := wasmtime.NewModule(engine, bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wasmtimerun: compile %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "wasmtimerun: compiled in %.1f s\n", time.Since(start).Seconds())
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun:", err)
		return 1
	}
	wasi := wasmtime.NewWasiConfig()
	wasi.SetArgv(args)
	wasi.InheritStdout()
	wasi.InheritStderr()
	if err := wasi.PreopenDir(cwd, "/", wasmtime.DIR_READ|wasmtime.DIR_WRITE, wasmtime.FILE_READ|wasmtime.FILE_WRITE); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun: preopen:", err)
		return 1
	}
	store := wasmtime.NewStore(engine)
	store.SetWasi(wasi)
	linker := wasmtime.NewLinker(engine)
	if err := linker.DefineWasi(); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun:", err)
		return 1
	}
	instance, err := linker.Instantiate(store, module)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun: instantiate:", err)
		return 1
	}
	_, err = instance.GetFunc(store, "_start").Call(store)
	var werr *wasmtime.Error
	if errors.As(err, &werr) {
		if code, ok := werr.ExitStatus(); ok {
			return int(code)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimerun:", err)
		return 1
	}
	return 0
}
