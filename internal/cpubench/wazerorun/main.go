// Command wazerorun runs a wasip1 module under wazero with a compilation
// cache, the way the project's own hosts do, giving it the current
// directory as / and passing through arguments, stdout and stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

func main() { os.Exit(doMain(os.Args[1:])) }

func doMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wazerorun CACHE-DIR MODULE.wasm [ARG...]")
		return 2
	}
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wazerorun: compilation cache:", err)
		return 1
	}
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(cache))
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	bin, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "wazerorun:", err)
		return 1
	}
	mod, err := r.CompileModule(ctx, bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wazerorun: compile %s: %v\n", args[1], err)
		return 1
	}
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wazerorun:", err)
		return 1
	}
	cfg := wazero.NewModuleConfig().WithArgs(args[1:]...).WithStdout(os.Stdout).WithStderr(os.Stderr).
		WithFSConfig(wazero.NewFSConfig().WithDirMount(cwd, "/")).WithSysNanotime().WithSysWalltime()
	if _, err := r.InstantiateModule(ctx, mod, cfg); err != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			return int(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "wazerorun:", err)
		return 1
	}
	return 0
}
