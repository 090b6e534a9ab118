package runtime

import (
	"errors"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"strings"
	"testing"
)

func TestDecodeSpecNamesJSONPath(t *testing.T) {
	cases := []struct {
		name, json, wantPath string
	}{
		{"args not a list", `{"ociVersion":"1.0.2","process":{"args":"sh"}}`, "process.args"},
		{"uid not a number", `{"ociVersion":"1.0.2","process":{"user":{"uid":"root"}}}`, "process.user.uid"},
		{"rlimit hard negative", `{"ociVersion":"1.0.2","process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":-1}]}}`, "process.rlimits.hard"},
		{"namespaces not a list", `{"ociVersion":"1.0.2","linux":{"namespaces":{}}}`, "linux.namespaces"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeSpec([]byte(c.json))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a ConfigError", err)
			}
			if ce.Path != c.wantPath {
				t.Fatalf("path %q, want %q (error: %v)", ce.Path, c.wantPath, err)
			}
		})
	}
}

func TestDecodeSpecSyntaxErrorNamesLine(t *testing.T) {
	_, err := DecodeSpec([]byte("{\n\"ociVersion\": \"1.0.2\",\n\"process\": {,\n}"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v, want an error naming line 3", err)
	}
}

const validSpec = `{
	"ociVersion": "1.0.2",
	"root": {"path": "rootfs"},
	"process": {"args": ["sh"], "cwd": "/"},
	"linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}
}`

func validate(t *testing.T, edit func(string) string) error {
	t.Helper()
	s, err := DecodeSpec([]byte(edit(validSpec)))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return ValidateSpec(s)
}

func TestValidateSpec(t *testing.T) {
	if err := validate(t, func(s string) string { return s }); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	cases := []struct {
		name     string
		old, new string
		wantPath string
	}{
		{"unknown capability", `"cwd": "/"`, `"cwd": "/", "capabilities": {"bounding": ["CAP_CHOWN", "CAP_FLY"]}`, "process.capabilities.bounding[1]"},
		{"relative cwd", `"cwd": "/"`, `"cwd": "tmp"`, "process.cwd"},
		{"empty args", `"args": ["sh"]`, `"args": []`, "process.args"},
		{"unknown namespace", `{"type": "pid"}`, `{"type": "pidd"}`, "linux.namespaces[1].type"},
		{"duplicate namespace", `{"type": "pid"}`, `{"type": "mount"}`, "linux.namespaces[1].type"},
		{"user namespace without mappings", `{"type": "pid"}`, `{"type": "user"}`, "linux.uidMappings"},
		{"unknown rlimit", `"cwd": "/"`, `"cwd": "/", "rlimits": [{"type": "RLIMIT_FOO", "hard": 1, "soft": 1}]`, "process.rlimits[0].type"},
		{"soft above hard", `"cwd": "/"`, `"cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}]`, "process.rlimits[0]"},
		{"relative hook", `"linux"`, `"hooks": {"prestart": [{"path": "hook"}]}, "linux"`, "hooks.prestart[0].path"},
		{"zero hook timeout", `"linux"`, `"hooks": {"poststop": [{"path": "/bin/true", "timeout": 0}]}, "linux"`, "hooks.poststop[0].timeout"},
		{"unknown propagation", `"namespaces"`, `"rootfsPropagation": "sideways", "namespaces"`, "linux.rootfsPropagation"},
		{"unknown seccomp action", `"namespaces"`, `"seccomp": {"defaultAction": "SCMP_ACT_MAYBE"}, "namespaces"`, "linux.seccomp"},
		{"hostname without uts", `"root"`, `"hostname": "x", "root"`, "hostname"},
		{"bad scheduler policy", `"cwd": "/"`, `"cwd": "/", "scheduler": {"policy": "SCHED_FAST"}`, "process.scheduler"},
		{"bad io priority", `"cwd": "/"`, `"cwd": "/", "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 9}`, "process.ioPriority"},
		{"selinux label", `"cwd": "/"`, `"cwd": "/", "selinuxLabel": "system_u:system_r:container_t:s0"`, "process.selinuxLabel"},
		{"idmap without mappings or user namespace", `"linux"`, `"mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["idmap"]}], "linux"`, "mounts[0].options"},
		{"idmap on a tmpfs", `"linux"`, `"mounts": [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["ridmap"], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}], "linux"`, "mounts[0]"},
		{"idmap uid mappings alone", `"linux"`, `"mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}], "linux"`, "mounts[0].uidMappings"},
		{"idmap empty range", `"linux"`, `"mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 0}], "gidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}], "linux"`, "mounts[0].uidMappings[0].size"},
		{"idmap range overflows", `"linux"`, `"mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}], "gidMappings": [{"containerID": 4294967295, "hostID": 1, "size": 2}]}], "linux"`, "mounts[0].gidMappings[0]"},
		{"tmpcopyup on a bind", `"linux"`, `"mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["bind", "tmpcopyup"]}], "linux"`, "mounts[0].options"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validate(t, func(s string) string {
				if !strings.Contains(s, c.old) {
					t.Fatalf("test bug: %q not in spec", c.old)
				}
				return strings.Replace(s, c.old, c.new, 1)
			})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a ConfigError", err)
			}
			if ce.Path != c.wantPath {
				t.Fatalf("path %q, want %q (error: %v)", ce.Path, c.wantPath, err)
			}
		})
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"a", "c1", "my-container_1.2+x"} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "-a", "a b", "../x"} {
		if err := CheckID(id); err == nil {
			t.Errorf("CheckID(%q) accepted", id)
		}
	}
}

func TestMergeResources(t *testing.T) {
	limit, shares, newLimit := int64(100), uint64(5), int64(200)
	cur := validResources(limit, shares)
	upd := validResources(newLimit, 0)
	upd.CPU = nil
	got := mergeResources(cur, upd)
	if *got.Memory.Limit != newLimit || *got.CPU.Shares != shares {
		t.Fatalf("merge: memory %d cpu shares %d, want %d and %d", *got.Memory.Limit, *got.CPU.Shares, newLimit, shares)
	}
	if *cur.Memory.Limit != limit {
		t.Fatalf("merge modified its input")
	}
}

func validResources(limit int64, shares uint64) *specs.LinuxResources {
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	if shares != 0 {
		r.CPU = &specs.LinuxCPU{Shares: &shares}
	}
	return r
}
