//go:build wasip1

package main

import "fmt"

// probeHello is called by hosts that run an export other than _start
// (MODULE.wasm#probe_hello) on the reactor build.
//
//go:wasmexport probe_hello
func probeHello() { fmt.Println("hello from probe_hello") }
