package main

import (
	"os"
	"syscall"
)

// hostStdin returns standard input set up so that waiting for it does not
// stop the whole instance: Go's wasip1 runtime polls a descriptor with
// poll_oneoff only when it is non-blocking, and os.Stdin is created before
// main could change that, so a fresh *os.File is made after the change.
func hostStdin() *os.File {
	if err := syscall.SetNonblock(0, true); err != nil {
		return os.Stdin
	}
	return os.NewFile(0, "/dev/stdin")
}
