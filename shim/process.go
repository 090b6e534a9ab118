package shim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// state is where a process is in its life.
type state int

const (
	stateCreated state = iota
	stateRunning
	stateStopped
)

func (s state) String() string {
	switch s {
	case stateCreated:
		return "created"
	case stateRunning:
		return "running"
	}
	return "stopped"
}

// stdioPaths are containerd's FIFOs for a process.
type stdioPaths struct {
	stdin, stdout, stderr string
	terminal              bool
}

// process is a container's init or one of its exec processes.
type process struct {
	execID string // "" for the init
	stdio  stdioPaths
	spec   *specs.Process // exec processes: what to run

	mu       sync.Mutex
	state    state
	pid      int
	status   int
	exitedAt time.Time
	io       *processIO
	// exited is closed once the process has exited and its status is set.
	exited chan struct{}
}

func newProcess(execID string, stdio stdioPaths, spec *specs.Process) *process {
	return &process{execID: execID, stdio: stdio, spec: spec, exited: make(chan struct{})}
}

func (p *process) name(containerID string) string {
	if p.execID == "" {
		return fmt.Sprintf("task %s", containerID)
	}
	return fmt.Sprintf("exec %s of task %s", p.execID, containerID)
}

// current returns the process's state, pid and, once stopped, its exit.
func (p *process) current() (state, int, int, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.pid, p.status, p.exitedAt
}

// require fails unless the process is in one of the allowed states.
func (p *process) require(containerID, op string, allowed ...state) error {
	st, _, _, _ := p.current()
	for _, a := range allowed {
		if st == a {
			return nil
		}
	}
	return fmt.Errorf("%s: cannot %s a %s process: %w", p.name(containerID), op, st, errdefs.ErrFailedPrecondition)
}

// started records the pid of a process that now runs.
func (p *process) started(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pid = pid
	if p.state == stateCreated {
		p.state = stateRunning
	}
}

// exit records the process's exit status; it reports false when the
// process had already exited.
func (p *process) exit(status int, at time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stateStopped {
		return false
	}
	p.state, p.status, p.exitedAt = stateStopped, status, at
	close(p.exited)
	return true
}

// wait blocks until the process has exited, then waits for its output to
// be copied out, so that a client reading after Wait sees all of it.
func (p *process) wait(ctx context.Context) (int, time.Time, error) {
	select {
	case <-p.exited:
	case <-ctx.Done():
		return 0, time.Time{}, ctx.Err()
	}
	p.mu.Lock()
	io := p.io
	p.mu.Unlock()
	if io != nil {
		io.waitOutput(ctx)
	}
	_, _, status, at := p.current()
	return status, at, nil
}
