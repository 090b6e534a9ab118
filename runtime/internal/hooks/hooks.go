package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Run runs hooks in order and stops at the first failure, which it returns
// naming the hook's kind, index and path.
func Run(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	stdin, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("%s hooks: encode state: %w", kind, err)
	}
	for i, h := range hooks {
		if err := runOne(h, stdin); err != nil {
			return fmt.Errorf("%s hook [%d] %s: %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// RunAll runs every hook, even after failures, and returns all failures
// joined; used where the spec says failures are only warnings.
func RunAll(kind string, hooks []specs.Hook, state *specs.State) []error {
	stdin, err := json.Marshal(state)
	if err != nil {
		return []error{fmt.Errorf("%s hooks: encode state: %w", kind, err)}
	}
	var errs []error
	for i, h := range hooks {
		if err := runOne(h, stdin); err != nil {
			errs = append(errs, fmt.Errorf("%s hook [%d] %s: %w", kind, i, h.Path, err))
		}
	}
	return errs
}

func runOne(h specs.Hook, stdin []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout must be positive, got %d", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	// A hook must not outlive a runtime that is killed while waiting for
	// it (e.g. kill -9 during create).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdin = bytes.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Hooks may leave children holding the output pipe; don't wait for
	// them past the hook's own exit.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
