package main

import (
	"os"
	"syscall"
)

// hostStdin returns standard input set up so that waiting for it does not
// stop the whole instance.
func hostStdin() *os.File {
	stdin = hostInput(0, "/dev/stdin")
	return stdin
}

// stdin keeps the *os.File of descriptor 0 reachable for the life of the
// module. Unreachable (a container run with --no-stdin never reads it),
// its finalizer closed descriptor 0, and the host then gave that number
// to the next accepted connection: wazero treats descriptor 0 as standard
// input in poll_oneoff, polled a socket as a terminal and failed with
// ENOSYS, and the Go runtime aborted ("poll_oneoff failed") as soon as it
// waited on that connection — a guest server writing to a slow client.
var stdin *os.File

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
