// Command c2w converts container images into WebAssembly: it pulls an OCI
// image, flattens its layers safely into the emulator's rootfs image, and
// (with the packing step) embeds it in a self-contained wasip1 module.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := doMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

// An exitError without err is a status to pass on silently, such as the
// exit status of a container that c2w run started.
func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// doMain runs c2w with args and returns its exit code: 0 on success, 1 when
// the work failed, 2 for usage errors (as docker and runc do).
func doMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCommand(stdin, stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return ee.code
	}
	fmt.Fprintf(stderr, "c2w: %v\n", err)
	if ee != nil {
		return ee.code
	}
	if isUsageError(err) {
		return 2
	}
	return 1
}
