//go:build !wasip1

package main

import "os"

// hostStdin returns standard input; natively a blocked read parks only its
// goroutine, so nothing needs changing.
func hostStdin() *os.File { return os.Stdin }

// hostInput returns the host's descriptor fd for reading.
func hostInput(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }
