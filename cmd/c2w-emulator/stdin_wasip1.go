package main

import (
	"os"
	"syscall"
)

// hostStdin returns standard input set up so that waiting for it does not
// stop the whole instance.
func hostStdin() *os.File { return hostInput(0, "/dev/stdin") }

// hostInput returns the host's descriptor fd for reading without stopping
// the whole instance: Go's wasip1 runtime polls a descriptor with
// poll_oneoff only when it is non-blocking, and os.Stdin is created before
// main could change that, so a fresh *os.File is made after the change.
func hostInput(fd int, name string) *os.File {
	if err := syscall.SetNonblock(fd, true); err != nil && fd == 0 {
		return os.Stdin
	}
	return os.NewFile(uintptr(fd), name)
}
