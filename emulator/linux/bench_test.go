//go:build linux

// The tests build images with the converter and compare with qemu on the
// host: they run natively on Linux only.

package linux_test

import (
	"io"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

// BenchmarkStartup measures whole runs of tiny commands: loading (static
// or through ld.so), libc start-up and exit. It reports guest
// instructions per run and the interpreter's speed over the run.
func BenchmarkStartup(b *testing.B) {
	for _, bc := range []struct {
		name, image string
		argv        []string
	}{
		{"busybox-sh-c-true", fixtures.ImageBusybox, []string{"sh", "-c", "true"}},
		{"bash-c-true", fixtures.ImageBash, []string{"bash", "-c", "true"}},
		{"python3-c-pass", fixtures.ImagePython, []string{"python3", "-c", "pass"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			img := loadImage(b, bc.image)
			var instr uint64
			start := time.Now()
			for b.Loop() {
				k, err := linux.New(linux.Config{Image: img, Args: bc.argv, Env: testEnv, Stdout: io.Discard, Stderr: io.Discard})
				if err != nil {
					b.Fatal(err)
				}
				if status, err := k.Run(); err != nil || status != 0 {
					b.Fatalf("status %d, %v", status, err)
				}
				instr += k.Instructions()
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(instr)/float64(b.N), "guest-instr/op")
			b.ReportMetric(float64(instr)/elapsed.Seconds()/1e6, "guest-MIPS")
		})
	}
}

// BenchmarkSyscalls runs a system-call-bound loop: dd copying one byte at
// a time (a read and a write per byte) from /dev/zero to /dev/null.
func BenchmarkSyscalls(b *testing.B) {
	img := loadImage(b, fixtures.ImageBusybox)
	const bytes = 100_000
	start := time.Now()
	for b.Loop() {
		k, err := linux.New(linux.Config{Image: img, Args: []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=100000"}, Stderr: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		if status, err := k.Run(); err != nil || status != 0 {
			b.Fatalf("status %d, %v", status, err)
		}
	}
	b.ReportMetric(float64(2*bytes*b.N)/time.Since(start).Seconds(), "syscalls/s")
}
