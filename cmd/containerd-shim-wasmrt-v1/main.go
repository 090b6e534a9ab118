// Command containerd-shim-wasmrt-v1 is containerd's runtime v2 shim for
// wasmrt (runtime io.containerd.wasmrt.v1); see package shim.
package main

import (
	"os"

	"github.com/wasmrt/wasmrt/shim"
)

func main() { os.Exit(shim.Main(os.Args[1:])) }
