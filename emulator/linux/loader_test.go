//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// TestExecHostileFiles feeds execve damaged copies of a real executable
// and of scripts: every one must load or fail with an errno, never panic,
// and a failed exec must leave the caller's image intact.
func TestExecHostileFiles(t *testing.T) {
	k, task := newBusyboxKernel(t)
	bin, err := k.fs.Lookup(k.fs.Root(), "/usr/bin/busybox", true)
	if err != nil {
		t.Fatal(err)
	}
	orig := make([]byte, bin.Size())
	if _, err := bin.ReadAt(orig, 0); err != nil {
		t.Fatal(err)
	}
	tmp, _ := k.fs.Lookup(k.fs.Root(), "/tmp", true)
	write := func(name string, data []byte) string {
		k.fs.Unlink(tmp, name, false)
		n, err := k.fs.Create(tmp, name, abi.S_IFREG|0o755)
		if err != nil {
			t.Fatal(err)
		}
		n.WriteAt(data, 0)
		return "/tmp/" + name
	}
	rng := rand.New(rand.NewSource(1))
	loaded := 0
	for i := 0; i < 300; i++ {
		m := bytes.Clone(orig[:min(len(orig), 1<<16)])
		switch i % 3 {
		case 0: // flip bytes in the ELF and program headers
			for j := 0; j < 4; j++ {
				m[rng.Intn(64+56*8)] = byte(rng.Intn(256))
			}
		case 1: // truncate
			m = m[:rng.Intn(len(m))]
		case 2: // random bytes after a valid-looking header
			rng.Read(m[64:1024])
		}
		before := task.proc.mm
		err := k.exec(task, write("m", m), []string{"m"}, nil)
		var errno abi.Errno
		switch {
		case err == nil:
			loaded++
		case !errors.As(err, &errno):
			t.Fatalf("mutation %d: exec error %v is not an errno", i, err)
		case task.proc.mm != before:
			t.Fatalf("mutation %d: failed exec replaced the address space", i)
		}
	}
	t.Logf("%d of 300 damaged executables still loaded", loaded)

	for _, tc := range []struct {
		name, content string
		want          abi.Errno
	}{
		{"loop", "#!/tmp/loop\n", abi.ELOOP},
		{"empty", "#!\n", abi.ENOEXEC},
		{"missing", "#!/no/such/interpreter\n", abi.ENOENT},
		{"text", "just text\n", abi.ENOEXEC},
		{"long", "#!" + string(bytes.Repeat([]byte("a"), 300)), abi.ENOEXEC},
	} {
		err := k.exec(task, write(tc.name, []byte(tc.content)), []string{tc.name}, nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("exec %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	k.fs.Unlink(tmp, "noexec", false)
	n, _ := k.fs.Create(tmp, "noexec", abi.S_IFREG|0o644)
	n.WriteAt(orig, 0)
	if err := k.exec(task, "/tmp/noexec", []string{"x"}, nil); !errors.Is(err, abi.EACCES) {
		t.Errorf("exec without x bit: %v, want EACCES", err)
	}
}

// newBusyboxKernel returns a machine booted on the busybox fixture, with
// its first task loaded but not yet run, for tests that call into the
// kernel directly.
func newBusyboxKernel(t *testing.T) (*Kernel, *Task) {
	t.Helper()
	img, err := FixtureImage(fixtures.OCI(t, fixtures.ImageBusybox))
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(Config{Image: img, Args: []string{"busybox", "true"}})
	if err != nil {
		t.Fatal(err)
	}
	return k, k.tasks[0]
}
