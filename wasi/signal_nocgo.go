//go:build !cgo || !linux

package wasi

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func exitOnSignal(terminal int) (func(), error) {
	var saved *term.State
	if terminal >= 0 && term.IsTerminal(terminal) {
		var err error
		if saved, err = term.GetState(terminal); err != nil {
			return nil, err
		}
	}
	sigs := make([]os.Signal, len(StopSignals))
	for i, s := range StopSignals {
		sigs[i] = s
	}
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			if saved != nil {
				_ = term.Restore(terminal, saved)
			}
			os.Exit(128 + int(s.(syscall.Signal)))
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}, nil
}
