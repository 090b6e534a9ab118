package linux

import (
	"slices"
	"strings"
	"testing"
)

const (
	testPasswd = "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken:x:notanumber:0::/:/bin/sh\n" +
		"alice:x:1000:1000:Alice:/home/alice:/bin/sh\nbob:x:1001:100::/home/bob:/bin/sh\nalice:x:2000:2000::/dup:/bin/sh\n"
	testGroup = "root:x:0:\nwheel:x:10:root,alice\nusers:x:100:bob\nalice:x:1000:\naudio:x:29:bob,alice\n"
)

// TestResolveUser checks USER resolution against the rules docker and
// runc apply (libcontainer's GetExecUser semantics).
func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want User
		err  string
	}{
		{"", User{Name: "root", Home: "/root", Groups: []uint32{10}}, ""},
		{"root", User{Name: "root", Home: "/root", Groups: []uint32{10}}, ""},
		{"alice", User{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", Groups: []uint32{10, 29}}, ""},
		{"1001", User{Name: "bob", UID: 1001, GID: 100, Home: "/home/bob", Groups: []uint32{100, 29}}, ""},
		// An explicit group replaces the primary group and drops the
		// supplementary ones.
		{"alice:users", User{Name: "alice", UID: 1000, GID: 100, Home: "/home/alice"}, ""},
		{"alice:29", User{Name: "alice", UID: 1000, GID: 29, Home: "/home/alice"}, ""},
		// Numeric ids need no entry.
		{"4242", User{UID: 4242, Home: "/"}, ""},
		{"4242:4343", User{UID: 4242, GID: 4343, Home: "/"}, ""},
		{"nobody", User{}, `no user "nobody"`},
		{"alice:nogroup", User{}, `no group "nogroup"`},
		{"alice:", User{}, "empty group"},
		{"99999999999", User{}, "out of range"},
		{"1:99999999999", User{}, "out of range"},
	} {
		got, err := resolveUser(tc.spec, []byte(testPasswd), []byte(testGroup))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.spec, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.spec, err)
		case got.Name != tc.want.Name || got.UID != tc.want.UID || got.GID != tc.want.GID || got.Home != tc.want.Home || !slices.Equal(got.Groups, tc.want.Groups):
			t.Errorf("%q: got %+v, want %+v", tc.spec, got, tc.want)
		}
	}
	// Without account files only numeric ids resolve.
	if u, err := resolveUser("7:8", nil, nil); err != nil || u.UID != 7 || u.GID != 8 {
		t.Errorf("7:8 without files: %+v, %v", u, err)
	}
	if _, err := resolveUser("alice", nil, nil); err == nil {
		t.Error("a name resolved without /etc/passwd")
	}
}

func TestUserApplyHome(t *testing.T) {
	u := User{UID: 5, GID: 6, Groups: []uint32{7}, Home: "/home/u"}
	var cfg Config
	u.Apply(&cfg)
	if cfg.UID != 5 || cfg.GID != 6 || !slices.Equal(cfg.Groups, []uint32{7}) || !slices.Contains(cfg.Env, "HOME=/home/u") || slices.Contains(cfg.Env, "HOME=/root") {
		t.Errorf("default environment: %+v", cfg)
	}
	cfg = Config{Env: []string{"HOME=/keep"}}
	u.Apply(&cfg)
	if !slices.Equal(cfg.Env, []string{"HOME=/keep"}) {
		t.Errorf("an explicit HOME was replaced: %q", cfg.Env)
	}
}
