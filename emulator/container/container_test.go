package container

import (
	"reflect"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestProcessFollowsDockerRun(t *testing.T) {
	img := &Config{Entrypoint: []string{"/entry"}, Cmd: []string{"default", "cmd"},
		Env: []string{"PATH=/img/bin", "A=image"}, WorkingDir: "/srv"}
	host := []string{"A=host", "H=host-only", "PATH=/host/bin"}
	for _, tc := range []struct {
		name string
		cfg  *Config
		o    Overrides
		want Process
	}{
		{"image defaults", img, Overrides{HostEnv: host},
			Process{Args: []string{"/entry", "default", "cmd"}, Env: []string{"PATH=/img/bin", "A=image", "HOME=/root"}, Dir: "/srv"}},
		{"args replace cmd, keep entrypoint", img, Overrides{Args: []string{"x"}},
			Process{Args: []string{"/entry", "x"}, Env: []string{"PATH=/img/bin", "A=image", "HOME=/root"}, Dir: "/srv"}},
		{"entrypoint drops image cmd", img, Overrides{Entrypoint: ptr("/other")},
			Process{Args: []string{"/other"}, Env: []string{"PATH=/img/bin", "A=image", "HOME=/root"}, Dir: "/srv"}},
		{"empty entrypoint clears it", img, Overrides{Entrypoint: ptr(""), Args: []string{"ls", "-l"}},
			Process{Args: []string{"ls", "-l"}, Env: []string{"PATH=/img/bin", "A=image", "HOME=/root"}, Dir: "/srv"}},
		{"env set, copy and host inheritance", img,
			Overrides{HostEnv: host, InheritHostEnv: true, Env: []string{"A=flag", "B=1", "MISSING"}},
			Process{Args: []string{"/entry", "default", "cmd"}, Env: []string{"PATH=/host/bin", "A=flag", "H=host-only", "B=1", "HOME=/root"}, Dir: "/srv"}},
		{"bare env copies from the host only", img, Overrides{HostEnv: host, Env: []string{"H"}},
			Process{Args: []string{"/entry", "default", "cmd"}, Env: []string{"PATH=/img/bin", "A=image", "H=host-only", "HOME=/root"}, Dir: "/srv"}},
		{"defaults for an empty image", &Config{Cmd: []string{"sh"}}, Overrides{Terminal: true, WorkingDir: "/tmp", User: "1000"},
			Process{Args: []string{"sh"}, Env: []string{"PATH=" + DefaultPath, "HOME=/root", "TERM=xterm"}, Dir: "/tmp", User: "1000"}},
	} {
		got, err := tc.cfg.Process(tc.o)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestProcessErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  *Config
		o    Overrides
		want string
	}{
		{&Config{}, Overrides{}, "neither an entrypoint nor a cmd"},
		{&Config{Cmd: []string{"sh"}}, Overrides{Entrypoint: ptr("")}, "neither an entrypoint nor a cmd"},
		{&Config{Cmd: []string{"sh"}}, Overrides{WorkingDir: "rel"}, `--workdir "rel"`},
		{&Config{Cmd: []string{"sh"}}, Overrides{Env: []string{"=x"}}, "NAME=VALUE"},
		{&Config{Cmd: []string{"sh"}}, Overrides{Args: []string{"a\x00b"}}, "NUL"},
	} {
		if _, err := tc.cfg.Process(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Process(%+v) = %v, want an error containing %q", tc.o, err, tc.want)
		}
	}
}

func TestMarshalParse(t *testing.T) {
	c := &Config{Image: "busybox@sha256:1", Platform: "linux/riscv64", Entrypoint: []string{"/bin/sh"},
		Env: []string{"A=1"}, WorkingDir: "/", User: "root", ExposedPorts: []string{"80/tcp"},
		Labels: map[string]string{"k": "v"}, StopSignal: "SIGTERM"}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	want := *c
	want.Version = FormatVersion
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}

func TestParseRejectsHostileBlobs(t *testing.T) {
	for _, tc := range []struct{ blob, want string }{
		{``, "EOF"},
		{`{"version":2}`, "format version 2"},
		{`{"version":1,"surprise":1}`, "unknown field"},
		{`{"version":1} {}`, "trailing data"},
		{`{"version":1,"cmd":["a\u0000"]}`, "NUL"},
		{`{"version":1,"env":["=x"]}`, "no name"},
		{`{"version":1,"workingDir":"rel"}`, "not absolute"},
		{`{"version":1,"cmd":"sh"}`, "cannot unmarshal"},
		{`{"version":1,"labels":{"a":"` + strings.Repeat("x", MaxConfigSize) + `"}}`, "allowed"},
	} {
		if _, err := Parse([]byte(tc.blob)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q) = %v, want an error containing %q", tc.blob, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2G": 2 << 30, "1000": 1000, "1KB": 1000, " 3 GiB ": 3 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "lots", "9999999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}
