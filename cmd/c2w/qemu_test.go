package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// TestConvertedMatchesQemu runs commands in the converted busybox module
// under wazero and in the image's own files under qemu-riscv64-static
// (chrooted into the extracted layer, so every path resolves in the image),
// and requires the same stdout, stderr and exit status. The commands stay
// within what qemu can run without a binfmt handler: shell built-ins and
// applets busybox runs without exec'ing itself.
func TestConvertedMatchesQemu(t *testing.T) {
	qemu, err := exec.LookPath("qemu-riscv64-static")
	if err != nil {
		t.Skip("qemu-riscv64-static not installed (Debian qemu-user-static; make test installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot for the qemu oracle needs root")
	}
	module := convertFixtureFor(t, fixtures.ImageBusybox, "linux/riscv64")
	// The same image with every page of busybox translated to
	// WebAssembly (docs/translation.md): it must not change what a guest
	// sees.
	translated := translatedBusybox(t)

	// The image's files, extracted from its single layer, plus qemu itself
	// (a static binary) so it can run inside the chroot.
	var info image.Info
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", "--platform", "linux/riscv64", layoutRef(t, fixtures.ImageBusybox))), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Layers) != 1 {
		t.Fatalf("busybox fixture has %d layers, want 1", len(info.Layers))
	}
	root := t.TempDir()
	blob := filepath.Join(fixtures.OCI(t, fixtures.ImageBusybox), "blobs", "sha256", strings.TrimPrefix(info.Layers[0].Digest, "sha256:"))
	if out, err := exec.Command("tar", "-xzf", blob, "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", blob, err, out)
	}
	if err := copyFile(qemu, filepath.Join(root, "qemu-riscv64-static")); err != nil {
		t.Fatal(err)
	}
	// What docker run (and the converted module) gives a container:
	// /etc/hosts and /etc/hostname, dated as the image's /etc.
	etc := filepath.Join(root, "etc")
	st, err := os.Stat(etc)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"hosts": linux.EtcHosts("localhost", false), "hostname": "localhost\n"} {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(etc, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}

	for _, script := range []string{
		`echo $((6*7)); for i in 1 2 3; do printf "<%s>" $i; done; echo`,
		`sha256sum /etc/passwd /etc/group`,
		`ls -ln /etc`,
		`find /usr/share -type f | sort`,
		`ls / | sort -r | head -3`,
		`stat -c "%n %a %u %g %F" /tmp /etc/passwd /usr/bin/busybox /bin`,
		"read a b <<END\nfirst second\nEND\necho \"$b $a\"",
		`ls /no/such/file; echo "status $?"`,
		`exit 3`,
		`kill -SEGV $$`,
	} {
		cmd := exec.Command("chroot", root, "/qemu-riscv64-static", "/usr/bin/busybox", "sh", "-c", script)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("qemu: %v", err)
			}
			code = ee.ExitCode()
			// qemu dies of the guest's fatal signal; report it as a shell does.
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
		want := result{stdout.String(), stderr.String(), code}
		got := wazeroRun(t, module, "", nil, nil, "sh", "-c", script)
		if got != want {
			t.Errorf("sh -c %q:\n wasm: %v\n qemu: %v", script, got, want)
		}
		if got := wazeroRun(t, translated, "", nil, nil, "sh", "-c", script); got != want {
			t.Errorf("sh -c %q:\n wasm, translated: %v\n qemu:             %v", script, got, want)
		}
	}
}

// translatedBusybox converts the busybox fixture's riscv64 image with all
// of its code translated (once per test binary).
func translatedBusybox(t *testing.T) string {
	t.Helper()
	if p, ok := converted.Load("busybox-translated"); ok {
		return p.(string)
	}
	out := filepath.Join(sharedDir(t), "busybox-translated.wasm")
	mustRun(t, "--quiet", "--precompile=false", "--translate=all", "--platform", "linux/riscv64", layoutRef(t, fixtures.ImageBusybox), out)
	wasmValidate(t, out)
	converted.Store("busybox-translated", out)
	return out
}

// TestTranslatedBusyLoopIsPreempted: a shell's busy loop in translated code
// must still give the scheduler its preemption points, so that the parent
// shell wakes from sleep and kills it, and a signal with a handler (the
// shell's trap) must reach the loop (qemu-user cannot be the oracle here:
// it cannot exec the sleep of a chroot without binfmt).
func TestTranslatedBusyLoopIsPreempted(t *testing.T) {
	if testing.Short() {
		t.Skip("converts busybox with all of its code translated")
	}
	script := `while :; do :; done & p=$!; sleep 0.2; kill $p; wait $p; echo "status $?"`
	for _, module := range []string{convertFixtureFor(t, fixtures.ImageBusybox, "linux/riscv64"), translatedBusybox(t)} {
		got := wazeroRun(t, module, "", nil, nil, "sh", "-c", script)
		if got.stdout != "status 143\n" || got.code != 0 {
			t.Errorf("%s: %v, want status 143 (SIGTERM) and exit 0", filepath.Base(module), got)
		}
		trapped := `trap 'echo caught; exit 7' USR1; (sleep 0.2; kill -USR1 $$) & while :; do :; done`
		if got := wazeroRun(t, module, "", nil, nil, "sh", "-c", trapped); got != (result{stdout: "caught\n", code: 7}) {
			t.Errorf("%s: trap in a busy loop: %v, want caught and exit 7", filepath.Base(module), got)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
