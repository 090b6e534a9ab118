package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime"
)

func addCreateFlags(cmd *cobra.Command, o *runtime.CreateOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.Bundle, "bundle", "b", ".", "bundle directory holding config.json")
	f.StringVar(&o.PidFile, "pid-file", "", "write the container init's pid to this file")
	f.StringVar(&o.ConsoleSocket, "console-socket", "", "unix socket that receives the pty master when process.terminal is true")
	f.BoolVar(&o.NoPivot, "no-pivot", false, "enter the root filesystem with MS_MOVE and chroot instead of pivot_root")
	f.BoolVar(&o.NoNewKeyring, "no-new-keyring", false, "keep the caller's session keyring instead of creating one")
	f.IntVar(&o.PreserveFDs, "preserve-fds", 0, "pass this many file descriptors after stdio (3, 4, …) to the container")
}

func newCreateCommand(g *globals) *cobra.Command {
	var o runtime.CreateOptions
	cmd := &cobra.Command{
		Use:     "create [flags] <container-id>",
		Short:   "Create a container; its program runs on `start`",
		Example: "  wasmrt create --bundle ./bundle c1 && wasmrt start c1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Create(args[0], o)
		},
	}
	addCreateFlags(cmd, &o)
	return cmd
}

func newRunCommand(g *globals) *cobra.Command {
	var o runtime.RunOptions
	cmd := &cobra.Command{
		Use:     "run [flags] <container-id>",
		Short:   "Create and start a container, wait for it and delete it",
		Example: "  wasmrt run -b ./bundle c1\n  wasmrt run -d -b ./bundle c1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := g.runtime().Run(args[0], o)
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	addCreateFlags(cmd, &o.CreateOptions)
	cmd.Flags().BoolVarP(&o.Detach, "detach", "d", false, "return after start instead of waiting")
	return cmd
}

func newStartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "start <container-id>",
		Short:   "Run the program of a created container",
		Example: "  wasmrt start c1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Start(args[0])
		},
	}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newStateCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "state <container-id>",
		Short:   "Print a container's state as JSON",
		Example: "  wasmrt state c1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.runtime().State(args[0])
			if err != nil {
				return err
			}
			return printJSON(s)
		},
	}
}

// parseSignal accepts "KILL", "SIGKILL", "kill" or "9".
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("signal %d out of range", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

func newKillCommand(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "kill [flags] <container-id> [signal]",
		Short:   "Send a signal (default SIGTERM) to a container's init",
		Example: "  wasmrt kill c1 KILL\n  wasmrt kill --all c1 9",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig := unix.SIGTERM
			if len(args) == 2 {
				var err error
				if sig, err = parseSignal(args[1]); err != nil {
					return err
				}
			}
			return g.runtime().Kill(args[0], sig, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "signal every process in the container")
	return cmd
}

func newDeleteCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "delete [flags] <container-id>",
		Short:   "Delete a stopped or created container (running ones with --force)",
		Example: "  wasmrt delete c1\n  wasmrt delete --force c1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runtime().Delete(args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it is running")
	return cmd
}

func newListCommand(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:     "list [flags]",
		Aliases: []string{"ls"},
		Short:   "List containers",
		Example: "  wasmrt list\n  wasmrt list --format json\n  wasmrt list -q",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			states, err := g.runtime().List()
			if err != nil {
				return err
			}
			if quiet {
				for _, s := range states {
					fmt.Println(s.ID)
				}
				return nil
			}
			switch format {
			case "json":
				if states == nil {
					states = []*runtime.State{}
				}
				return json.NewEncoder(os.Stdout).Encode(states)
			case "table":
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
				for _, s := range states {
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
				}
				return w.Flush()
			}
			return fmt.Errorf("--format %q: use table or json", format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only container ids")
	return cmd
}

func simple(use, short, example string, run func(*runtime.Runtime, string) error, g *globals) *cobra.Command {
	return &cobra.Command{
		Use: use + " <container-id>", Short: short, Example: example, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(g.runtime(), args[0]) },
	}
}

func newPauseCommand(g *globals) *cobra.Command {
	return simple("pause", "Freeze every process of a container", "  wasmrt pause c1", (*runtime.Runtime).Pause, g)
}

func newResumeCommand(g *globals) *cobra.Command {
	return simple("resume", "Thaw a paused container", "  wasmrt resume c1", (*runtime.Runtime).Resume, g)
}
