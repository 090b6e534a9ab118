//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/convert"
	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// busyboxImage writes the busybox fixture as a rootfs image file.
func busyboxImage(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	src, err := image.ParseSource("oci-layout:"+fixtures.OCI(t, fixtures.ImageBusybox)+":latest", false)
	if err != nil {
		t.Fatal(err)
	}
	plat, _ := image.ParsePlatform("linux/riscv64")
	im, err := image.Open(ctx, src, image.Options{Platform: plat})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	tree, err := convert.Flatten(ctx, im, convert.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	var buf bytes.Buffer
	if err := rootfs.Write(&buf, tree, rootfs.DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "busybox.img")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNativeMain(t *testing.T) {
	img := busyboxImage(t)
	host := t.TempDir()
	for _, tc := range []struct {
		args       []string
		stdin      string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{args: []string{img, "sh", "-c", "read x; echo got $x; exit 3"}, stdin: "line\n", wantStatus: 3, wantOut: "got line\n"},
		{args: []string{"-env", "A=1", "-dir", "/etc", img, "sh", "-c", "echo $A $PWD"}, wantOut: "1 /etc\n"},
		{args: []string{"-mount", host + ":/mnt", img, "sh", "-c", "echo x > /mnt/f"}},
		{args: []string{img}, wantStatus: 125, wantErr: "usage"},
		{args: []string{"/nonexistent.img", "sh"}, wantStatus: 125, wantErr: "no such file"},
		{args: []string{img, "/no/program"}, wantStatus: 125, wantErr: "/no/program"},
		{args: []string{"-mount", "nocolon", img, "sh"}, wantStatus: 125, wantErr: "HOST:GUEST"},
	} {
		var stdout, stderr bytes.Buffer
		status := nativeMain(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
		if status != tc.wantStatus || stdout.String() != tc.wantOut || !strings.Contains(stderr.String(), tc.wantErr) {
			t.Errorf("nativeMain(%q) = %d, stdout %q, stderr %q; want %d, %q, stderr containing %q",
				tc.args, status, stdout.String(), stderr.String(), tc.wantStatus, tc.wantOut, tc.wantErr)
		}
	}
	if b, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(b) != "x\n" {
		t.Errorf("mounted write: %q, %v", b, err)
	}
}
