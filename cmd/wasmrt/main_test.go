package main

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"KILL": unix.SIGKILL, "SIGTERM": unix.SIGTERM, "usr1": unix.SIGUSR1, "9": unix.SIGKILL, "34": unix.Signal(34),
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "NOPE", "0", "65", "-1"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) accepted", in)
		}
	}
}

func TestExecProcessFromFlags(t *testing.T) {
	umask := uint32(0o22)
	base := &specs.Process{
		Args: []string{"sleep", "1"}, Cwd: "/", Env: []string{"A=1"},
		User:         specs.User{UID: 0, Umask: &umask},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}},
	}
	f := execFlags{env: []string{"B=2"}, cwd: "/tmp", user: "1000:1001", groups: []string{"5"}, caps: []string{"CAP_NET_ADMIN"}, noNewPrivs: true, tty: true}
	p, err := f.process(base, []string{"ls", "-l"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Args[0] != "ls" || p.Cwd != "/tmp" || len(p.Env) != 2 || p.Env[1] != "B=2" || !p.Terminal || !p.NoNewPrivileges {
		t.Fatalf("process %+v", p)
	}
	if p.User.UID != 1000 || p.User.GID != 1001 || len(p.User.AdditionalGids) != 1 || p.User.Umask == nil {
		t.Fatalf("user %+v", p.User)
	}
	if c := p.Capabilities; len(c.Bounding) != 2 || len(c.Effective) != 1 || c.Effective[0] != "CAP_NET_ADMIN" {
		t.Fatalf("capabilities %+v", c)
	}
	if len(base.Env) != 1 || len(base.Capabilities.Bounding) != 1 {
		t.Fatal("building the exec process modified the container's process")
	}
	if _, err := (&execFlags{user: "root"}).process(base, []string{"id"}); err == nil {
		t.Fatal("non-numeric --user accepted")
	}
}
