//go:build !wasip1

package main

import (
	"net"

	"github.com/wasmrt/wasmrt/emulator/linux"
)

// preopenMounts has nothing to report outside WASI: native runs name their
// mounts with -mount.
func preopenMounts() []linux.Mount { return nil }

// preopenListeners has none outside WASI.
func preopenListeners() ([]net.Listener, error) { return nil, nil }
