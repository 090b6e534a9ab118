package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/runtime"
)

type execFlags struct {
	processFile   string
	tty, detach   bool
	pidFile       string
	consoleSocket string
	cwd           string
	env           []string
	user          string
	groups        []string
	caps          []string
	noNewPrivs    bool
	preserveFDs   int
}

func newExecCommand(g *globals) *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] <container-id> [command [args…]]",
		Short: "Run another process in a running container",
		Example: `  wasmrt exec c1 ps aux
  wasmrt exec -p process.json c1
  wasmrt exec -d --user 1000:1000 --env FOO=bar c1 sleep 100`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt := g.runtime()
			spec, err := rt.Spec(args[0])
			if err != nil {
				return err
			}
			proc, err := f.process(spec.Process, args[1:])
			if err != nil {
				return err
			}
			code, err := rt.Exec(args[0], runtime.ExecOptions{
				Process: proc, PidFile: f.pidFile, ConsoleSocket: f.consoleSocket,
				Detach: f.detach, PreserveFDs: f.preserveFDs,
			})
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	fl.StringVarP(&f.processFile, "process", "p", "", "JSON file with the process to run (runtime-spec process object)")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-terminal (sent over --console-socket)")
	fl.BoolVarP(&f.detach, "detach", "d", false, "return once the process started")
	fl.StringVar(&f.pidFile, "pid-file", "", "write the process's pid to this file")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket that receives the pty master")
	fl.StringVar(&f.cwd, "cwd", "", "working directory in the container")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=value); repeatable")
	fl.StringVarP(&f.user, "user", "u", "", "uid[:gid] to run as")
	fl.StringArrayVarP(&f.groups, "additional-gids", "g", nil, "additional group id; repeatable")
	fl.StringArrayVarP(&f.caps, "cap", "c", nil, "add a capability (e.g. CAP_NET_ADMIN); repeatable")
	fl.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
	fl.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass this many file descriptors after stdio to the process")
	return cmd
}

// process builds the process to exec: the -p file as given, or the
// container's process with args and the flags applied, as runc does.
func (f *execFlags) process(base *specs.Process, args []string) (*specs.Process, error) {
	if f.processFile != "" {
		data, err := os.ReadFile(f.processFile)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", f.processFile, err)
		}
		return &p, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("exec: give a command or --process")
	}
	if base == nil {
		base = &specs.Process{Cwd: "/", Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}
	}
	p := *base
	p.Args = args
	p.Terminal = f.tty
	p.ConsoleSize = nil
	p.Env = append(append([]string{}, base.Env...), f.env...)
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	if f.user != "" {
		uid, gid, hasGID := strings.Cut(f.user, ":")
		u, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: uid must be a number", f.user)
		}
		p.User = specs.User{UID: uint32(u), Umask: base.User.Umask}
		if hasGID {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: gid must be a number", f.user)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, s := range f.groups {
		g, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--additional-gids %q: not a number", s)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if len(f.caps) > 0 {
		c := specs.LinuxCapabilities{}
		if base.Capabilities != nil {
			c = *base.Capabilities
		}
		c.Bounding = append(append([]string{}, c.Bounding...), f.caps...)
		c.Effective = append(append([]string{}, c.Effective...), f.caps...)
		c.Permitted = append(append([]string{}, c.Permitted...), f.caps...)
		p.Capabilities = &c
	}
	if f.noNewPrivs {
		p.NoNewPrivileges = true
	}
	return &p, nil
}
