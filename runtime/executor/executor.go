package executor

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Program is the container's program, resolved inside the container.
type Program struct {
	// Path is the program's path inside the container.
	Path string
	// Args is argv, argv[0] as the container gave it; Env holds NAME=VALUE
	// entries; Cwd is the working directory (already entered).
	Args, Env []string
	Cwd       string
}

// Executor runs the container's program in the fully prepared process.
type Executor interface {
	// Name identifies the executor in `features` and logs.
	Name() string
	// InProcess reports that Execute runs the program inside the calling
	// process rather than replacing it: the runtime must first close the
	// descriptors it holds and restrict every other thread of the process
	// as execve would.
	InProcess() bool
	// Execute runs p. On success it does not return.
	Execute(p Program) error
}

// Native executes the program directly with execve(2).
type Native struct{}

var _ Executor = Native{}

// Name implements Executor.
func (Native) Name() string { return "native" }

// InProcess implements Executor.
func (Native) InProcess() bool { return false }

// Execute implements Executor.
func (Native) Execute(p Program) error {
	if err := unix.Exec(p.Path, p.Args, p.Env); err != nil {
		return fmt.Errorf("execve %s: %w", p.Path, err)
	}
	return nil
}
