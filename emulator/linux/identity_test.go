//go:build linux

package linux_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// runAs runs a busybox shell script as the image user spec.
func runAs(t *testing.T, spec, script string) (string, int) {
	t.Helper()
	img := loadImage(t, fixtures.ImageBusybox)
	u, err := linux.LookupUser(img, spec)
	if err != nil {
		t.Fatalf("user %q: %v", spec, err)
	}
	var stdout, stderr bytes.Buffer
	cfg := linux.Config{Image: img, Args: []string{"sh", "-c", script}, Env: []string{"PATH=/bin:/usr/bin", "LC_ALL=C"},
		Stdout: &stdout, Stderr: &stderr, InstructionLimit: 2_000_000_000}
	u.Apply(&cfg)
	k, err := linux.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	status, err := k.Run()
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", script, err, stderr.String())
	}
	return stdout.String() + stderr.String(), status
}

// TestUserIdentity runs busybox id as the fixture's nobody (65534, group
// nogroup 65534, listed in no other group: /etc/passwd and /etc/group of
// internal/fixtures) and as root; the expected lines follow from those
// files and from what runc gives such a USER (setgroups with the empty
// supplementary list).
func TestUserIdentity(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"nobody", "uid=65534(nobody) gid=65534(nogroup)\n65534 65534 65534\nHOME=/nonexistent\nUid:\t65534\t65534\t65534\t65534\n"},
		{"65534:0", "uid=65534(nobody) gid=0(root)\n65534 0 0\nHOME=/nonexistent\nUid:\t65534\t65534\t65534\t65534\n"},
		{"4242:4343", "uid=4242 gid=4343\n4242 4343 4343\nHOME=/\nUid:\t4242\t4242\t4242\t4242\n"},
		{"root", "uid=0(root) gid=0(root)\n0 0 0\nHOME=/root\nUid:\t0\t0\t0\t0\n"},
	} {
		got, status := runAs(t, tc.spec, `id; echo $(id -u) $(id -g) $(id -G); env | grep ^HOME=; grep ^Uid: /proc/self/status`)
		if status != 0 || got != tc.want {
			t.Errorf("USER %s: status %d, output:\n%s\nwant:\n%s", tc.spec, status, got, tc.want)
		}
	}
	if _, err := linux.LookupUser(loadImage(t, fixtures.ImageBusybox), "daemon"); err == nil || !strings.Contains(err.Error(), `no user "daemon"`) {
		t.Errorf("unknown user: %v", err)
	}
}

// TestUserPermissions checks that a non-root guest meets the mode bits:
// what it may not touch fails with EACCES or EPERM, and what it creates
// belongs to it.
func TestUserPermissions(t *testing.T) {
	script := `exec 2>&1
echo x > /etc/passwd || echo "write passwd denied"
mkdir /root/d || echo "mkdir in /root denied"
rm /etc/group || echo "unlink denied"
ls /root || echo "list denied"
echo mine > /tmp/mine && stat -c '%u:%g %a' /tmp/mine
chmod 600 /tmp/mine && cat /tmp/mine
chown 0 /tmp/mine || echo "chown denied"
kill -0 1 && echo "signal self ok"
printf '#!/bin/sh\necho run\n' > /tmp/s; chmod 644 /tmp/s; /tmp/s || echo "exec denied $?"
chmod 755 /tmp/s && /tmp/s
`
	got, _ := runAs(t, "nobody", script)
	want := `sh: can't create /etc/passwd: Permission denied
write passwd denied
mkdir: can't create directory '/root/d': Permission denied
mkdir in /root denied
rm: can't remove '/etc/group': Permission denied
unlink denied
ls: can't open '/root': Permission denied
list denied
65534:65534 644
mine
chown: /tmp/mine: Operation not permitted
chown denied
signal self ok
sh: /tmp/s: Permission denied
exec denied 126
run
`
	if got != want {
		t.Errorf("as nobody:\n%s\nwant:\n%s", got, want)
	}
}
