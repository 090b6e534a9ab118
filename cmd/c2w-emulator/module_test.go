//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// TestModuleMain runs the module mode natively from the same blobs c2w
// embeds: the flag handling the WebAssembly build shares.
func TestModuleMain(t *testing.T) {
	fsImage, err := os.ReadFile(busyboxImage(t))
	if err != nil {
		t.Fatal(err)
	}
	withCmd, _ := (&container.Config{Image: "bb", Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo default"},
		Env: []string{"PATH=/bin:/usr/bin", "IMG=1"}, WorkingDir: "/tmp"}).Marshal()
	bare, _ := (&container.Config{Image: "bare"}).Marshal()
	host := t.TempDir()
	for _, tc := range []struct {
		config     []byte
		args       []string
		stdin      string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{config: withCmd, wantOut: "default\n"},
		{config: withCmd, args: []string{"echo $IMG $PWD; exit 4"}, wantStatus: 4, wantOut: "1 /tmp\n"},
		{config: withCmd, args: []string{"--workdir", "/", "--env", "IMG=2", "--env", "HOSTONLY", "echo $IMG $PWD ${HOSTONLY-unset}"}, wantOut: "2 / yes\n"},
		{config: withCmd, args: []string{"echo ${HOSTONLY-unset}"}, wantOut: "unset\n"},
		{config: withCmd, args: []string{"--env-from-host", "echo ${HOSTONLY-unset}"}, wantOut: "yes\n"},
		{config: withCmd, args: []string{"--entrypoint", "cat"}, stdin: "piped\n", wantOut: "piped\n"},
		{config: withCmd, args: []string{"--no-stdin", "--entrypoint", "cat"}, stdin: "piped\n"},
		{config: withCmd, args: []string{"echo x > /mnt/f"}},
		{config: withCmd, args: []string{"--user", "nobody", "id -u; id -g"}, wantOut: "65534\n65534\n"},
		{config: withCmd, args: []string{"--user", "1000:42", "id -u; id -g"}, wantOut: "1000\n42\n"},
		{config: withCmd, args: []string{"--user", "nosuch", "true"}, wantStatus: 125, wantErr: `no user "nosuch"`},
		{config: withCmd, args: []string{"--help"}, wantErr: `cmd:        ["echo default"]`},
		{config: withCmd, args: []string{"--memory", "0", "true"}, wantStatus: 125, wantErr: "--memory"},
		{config: withCmd, args: []string{"--publish", "80", "true"}, wantStatus: 125, wantErr: "1 guest ports but the host preopened 0 listening sockets"},
		{config: withCmd, args: []string{"--resize-fd", "1", "true"}, wantStatus: 125, wantErr: "--resize-fd 1: not a descriptor"},
		{config: withCmd, args: []string{"--resize-fd", "9", "true"}, wantStatus: 125, wantErr: "--resize-fd 9: the host did not open descriptor 9"},
		{config: withCmd, args: []string{"--resize-fd", "3", "echo resizable"}, wantOut: "resizable\n"},
		{config: bare, wantStatus: 125, wantErr: "c2w: bare: the image has neither an entrypoint nor a cmd"},
		{config: []byte(`{}`), wantStatus: 125, wantErr: "embedded container config: format version 0"},
	} {
		var stdout, stderr bytes.Buffer
		status := moduleMain(moduleEnv{
			rootfs: func() (*rootfs.Image, error) { return rootfs.Open(fsImage) }, config: tc.config, args: tc.args, hostEnv: []string{"HOSTONLY=yes"},
			mounts: []linux.Mount{{Host: host, Guest: "/mnt"}},
			stdin:  strings.NewReader(tc.stdin), stdout: &stdout, stderr: &stderr,
			hostFile: func(fd int) (io.Reader, error) {
				if fd != 3 {
					return nil, fmt.Errorf("the host did not open descriptor %d", fd)
				}
				return strings.NewReader("30 100\nnonsense\n"), nil
			},
		})
		if status != tc.wantStatus || stdout.String() != tc.wantOut || !strings.Contains(stderr.String(), tc.wantErr) {
			t.Errorf("moduleMain(%q) = %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
				tc.args, status, stdout.String(), stderr.String(), tc.wantStatus, tc.wantOut, tc.wantErr)
		}
	}
	if b, err := os.ReadFile(host + "/f"); err != nil || string(b) != "x\n" {
		t.Errorf("write through the mount: %q, %v", b, err)
	}
}

func TestParseWindowSize(t *testing.T) {
	for line, want := range map[string][2]uint16{"24 80": {24, 80}, " 50\t132 ": {50, 132}, "65535 1": {65535, 1}} {
		if r, c, ok := parseWindowSize(line); !ok || r != want[0] || c != want[1] {
			t.Errorf("parseWindowSize(%q) = %d, %d, %v", line, r, c, ok)
		}
	}
	for _, line := range []string{"", "24", "24 80 1", "0 80", "24 0", "65536 80", "-1 80", "a b"} {
		if _, _, ok := parseWindowSize(line); ok {
			t.Errorf("parseWindowSize(%q) accepted", line)
		}
	}
}

// TestModuleRootfsFile: a module without an embedded rootfs reads it from
// --rootfs-file, and the directory the host opened for it is not mounted
// in the guest.
func TestModuleRootfsFile(t *testing.T) {
	image := busyboxImage(t)
	cfg, _ := (&container.Config{Image: "bb", Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo default"}}).Marshal()
	junk := filepath.Join(t.TempDir(), "junk.img")
	os.WriteFile(junk, []byte("not a rootfs image"), 0o644)
	other := t.TempDir()
	for _, tc := range []struct {
		args       []string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{args: []string{"true"}, wantStatus: 125, wantErr: "carries no root file system image: give --rootfs-file"},
		{args: []string{"--rootfs-file", image, "echo ok; test -e /site/" + filepath.Base(image) + " || echo unmounted; ls /other"}, wantOut: "ok\nunmounted\nmine\n"},
		{args: []string{"--rootfs-file", filepath.Join(other, "missing.img"), "true"}, wantStatus: 125, wantErr: "--rootfs-file: open"},
		{args: []string{"--rootfs-file", junk, "true"}, wantStatus: 125, wantErr: "junk.img"},
	} {
		os.WriteFile(filepath.Join(other, "mine"), nil, 0o644)
		var stdout, stderr bytes.Buffer
		status := moduleMain(moduleEnv{
			config: cfg, args: tc.args, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			mounts: []linux.Mount{{Host: filepath.Dir(image), Guest: "/site"}, {Host: other, Guest: "/other"}},
		})
		if status != tc.wantStatus || stdout.String() != tc.wantOut || !strings.Contains(stderr.String(), tc.wantErr) {
			t.Errorf("moduleMain(%q) = %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
				tc.args, status, stdout.String(), stderr.String(), tc.wantStatus, tc.wantOut, tc.wantErr)
		}
	}
}
