package executor

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Executor runs the container's program in the fully prepared process.
type Executor interface {
	// Name identifies the executor in `features` and logs.
	Name() string
	// Execute runs path with argv and env in the current process. On
	// success it does not return.
	Execute(path string, argv, env []string) error
}

// Native executes the program directly with execve(2).
type Native struct{}

var _ Executor = Native{}

// Name implements Executor.
func (Native) Name() string { return "native" }

// Execute implements Executor.
func (Native) Execute(path string, argv, env []string) error {
	if err := unix.Exec(path, argv, env); err != nil {
		return fmt.Errorf("execve %s: %w", path, err)
	}
	return nil
}
