package container

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultPath is the PATH a container gets when its image sets none, as
// docker gives it.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand reports an image with neither ENTRYPOINT nor CMD started
// without a command.
var ErrNoCommand = errors.New("the image has neither an entrypoint nor a cmd: give the command to run after the flags, e.g. `sh -c 'echo hello'`")

// Overrides are the run-time options that change how the image's process
// starts, with `docker run` meanings.
type Overrides struct {
	// Entrypoint, when non-nil, replaces the image's ENTRYPOINT (an empty
	// string clears it) and, as in docker, drops the image's CMD.
	Entrypoint *string
	// Args, when non-empty, replace the image's CMD.
	Args []string
	// HostEnv is the host environment offered to the container: all of it
	// when InheritHostEnv is set, else only the names Env lists bare.
	HostEnv        []string
	InheritHostEnv bool
	// Env entries NAME=VALUE set a variable; a bare NAME copies it from
	// HostEnv (and is skipped when the host has none), like docker -e.
	Env []string
	// WorkingDir, when set, replaces the image's working directory.
	WorkingDir string
	// User, when set, replaces the image's user.
	User string
	// Terminal adds TERM=xterm when the environment has no TERM, as
	// `docker run -t` does.
	Terminal bool
}

// Process is the first process of a container.
type Process struct {
	Args []string
	Env  []string
	Dir  string
	User string
}

// Process combines the image config with o into the process to start.
func (c *Config) Process(o Overrides) (Process, error) {
	var p Process
	entrypoint, cmd := c.Entrypoint, c.Cmd
	if o.Entrypoint != nil {
		entrypoint, cmd = nil, nil
		if *o.Entrypoint != "" {
			entrypoint = []string{*o.Entrypoint}
		}
	}
	if len(o.Args) > 0 {
		cmd = o.Args
	}
	p.Args = append(append([]string(nil), entrypoint...), cmd...)
	if len(p.Args) == 0 {
		return Process{}, ErrNoCommand
	}
	for _, a := range p.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return Process{}, fmt.Errorf("argument %q contains a NUL byte", a)
		}
	}

	env := newEnv(c.Env)
	if o.InheritHostEnv {
		for _, e := range o.HostEnv {
			env.set(e)
		}
	}
	for _, e := range o.Env {
		if strings.IndexByte(e, 0) >= 0 {
			return Process{}, fmt.Errorf("--env %q contains a NUL byte", e)
		}
		name, _, hasValue := strings.Cut(e, "=")
		if name == "" {
			return Process{}, fmt.Errorf("--env %q: want NAME=VALUE or NAME", e)
		}
		if hasValue {
			env.set(e)
			continue
		}
		for _, h := range o.HostEnv {
			if hn, _, _ := strings.Cut(h, "="); hn == name {
				env.set(h)
			}
		}
	}
	env.setDefault("PATH=" + DefaultPath)
	env.setDefault("HOME=/root")
	if o.Terminal {
		env.setDefault("TERM=xterm")
	}
	p.Env = env.list

	p.Dir = c.WorkingDir
	if o.WorkingDir != "" {
		if !path.IsAbs(o.WorkingDir) {
			return Process{}, fmt.Errorf("--workdir %q: want an absolute guest path", o.WorkingDir)
		}
		p.Dir = o.WorkingDir
	}
	if p.Dir == "" {
		p.Dir = "/"
	}
	p.User = c.User
	if o.User != "" {
		p.User = o.User
	}
	return p, nil
}

// environ is an ordered environment in which a later NAME=VALUE replaces
// an earlier one in place.
type environ struct {
	list  []string
	index map[string]int
}

func newEnv(base []string) *environ {
	e := &environ{index: make(map[string]int)}
	for _, kv := range base {
		e.set(kv)
	}
	return e
}

func (e *environ) set(kv string) {
	name, _, _ := strings.Cut(kv, "=")
	if i, ok := e.index[name]; ok {
		e.list[i] = kv
		return
	}
	e.index[name] = len(e.list)
	e.list = append(e.list, kv)
}

func (e *environ) setDefault(kv string) {
	name, _, _ := strings.Cut(kv, "=")
	if _, ok := e.index[name]; !ok {
		e.set(kv)
	}
}
