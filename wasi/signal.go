package wasi

import (
	"os"
	"os/signal"
	"syscall"
)

// StopSignals are the signals whose default action ends a process. A WASI
// module has no way to handle a signal, so each one ends it.
var StopSignals = []os.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM}

// ExitOnSignal ends the process with status 128+N when one of sigs
// (StopSignals when none are given) arrives, after calling cleanup (which
// may be nil). Compiled module code is never interrupted from inside:
// exiting is immediate whatever the module is doing, and costs nothing
// while it runs. The returned function stops the watch.
func ExitOnSignal(cleanup func(), sigs ...os.Signal) (stop func()) {
	if len(sigs) == 0 {
		sigs = StopSignals
	}
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			if cleanup != nil {
				cleanup()
			}
			n := 0
			if sn, ok := s.(syscall.Signal); ok {
				n = int(sn)
			}
			os.Exit(128 + n)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
