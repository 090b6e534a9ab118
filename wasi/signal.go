package wasi

import (
	"syscall"
)

// StopSignals are the signals whose default action ends a process. A WASI
// module has no way to handle a signal, so each one ends it.
var StopSignals = []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM}

// ExitOnSignal makes each of StopSignals end the process with status
// 128+N, as it would end a process running the program natively. When
// terminal is the descriptor of a terminal, its settings as they are now
// are put back first (call it before making the terminal raw); pass -1
// for none. The returned function puts the previous handling back.
//
// Compiled module code is never interrupted from inside (wazero's context
// checks in every loop cost 3× in speed), and the Go scheduler cannot
// preempt it: a module looping without calling the host holds up any
// garbage collection that stops the world, and with it every goroutine.
// So where cgo is available the signals are handled in C, outside the Go
// scheduler (signal_cgo.go): exiting is immediate whatever the module and
// the runtime are doing. Without cgo a goroutine handles them, which a
// collection stuck behind a spinning module delays until the module next
// calls the host.
func ExitOnSignal(terminal int) (stop func(), err error) {
	return exitOnSignal(terminal)
}
