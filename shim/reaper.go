package shim

import (
	"context"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// reaper collects the exits of the shim's children: the containers'
// processes, which the shim adopts as child subreaper. The runtime waits
// for the helper processes it starts itself (os/exec), so reaping pauses
// while it starts one: a wait4(-1) in between would take their status.
type reaper struct {
	mu     sync.Mutex
	report func(pid, status int)
}

func newReaper(report func(pid, status int)) *reaper { return &reaper{report: report} }

func (r *reaper) run(ctx context.Context) {
	ch := make(chan os.Signal, 64)
	signal.Notify(ch, unix.SIGCHLD)
	defer signal.Stop(ch)
	for {
		select {
		case <-ch:
			r.reap()
		case <-ctx.Done():
			return
		}
	}
}

// reap collects every child that has exited.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		status := ws.ExitStatus()
		if ws.Signaled() {
			status = 128 + int(ws.Signal())
		}
		r.report(pid, status)
	}
}

// starting runs start (which starts processes and waits for its helpers)
// with reaping paused, then collects what exited meanwhile.
func (r *reaper) starting(start func() error) error {
	r.mu.Lock()
	err := start()
	r.mu.Unlock()
	r.reap()
	return err
}
