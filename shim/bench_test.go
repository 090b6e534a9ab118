package shim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
	"github.com/wasmrt/wasmrt/internal/wasmtest"
)

// trueImage imports an image whose program is a C module that returns at
// once (wasi-libc), the smallest useful Wasm task.
func trueImage(b *testing.B, c *ctrtest.Containerd) string {
	mod, err := os.ReadFile(wasmtest.C(b, "int main(void) { return 0; }\n"))
	if err != nil {
		b.Fatal(err)
	}
	ref := "example.com/true-wasm:test"
	archive := filepath.Join(b.TempDir(), "true.tar")
	img := ctrtest.Image{Ref: ref, OS: "wasip1", Arch: "wasm", Files: map[string]ctrtest.File{"true.wasm": {Data: mod}}, Entrypoint: []string{"/true.wasm"}}
	if err := ctrtest.WriteArchive(img, archive); err != nil {
		b.Fatal(err)
	}
	c.MustCtr(b, "images", "import", "--all-platforms", archive)
	return ref
}

// BenchmarkContainerdTasks runs short tasks through containerd one after
// another (ctr run --rm), runwasi's measure: a Wasm task and a native one
// under this shim, and a native one under containerd's runc shim, in the
// same run. Run with -benchtime 200x.
func BenchmarkContainerdTasks(b *testing.B) {
	c, imgs := setup(b)
	trueWasm := trueImage(b, c)
	for _, bc := range []struct {
		name, runtime, image string
		args                 []string
	}{
		{"wasmrt-wasm", runtimeName, trueWasm, nil},
		{"wasmrt-native", runtimeName, imgs.native, []string{"true"}},
		{"runc-native", "io.containerd.runc.v2", imgs.native, []string{"true"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// One untimed task: the first start compiles the module.
			if _, errs, code := c.Ctr(append([]string{"run", "--rm", "--runtime", bc.runtime, bc.image, "warm"}, bc.args...)...); code != 0 {
				b.Fatalf("%s: %s", bc.name, errs)
			}
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("%s-%d", bc.name, i)
				if _, errs, code := c.Ctr(append([]string{"run", "--rm", "--runtime", bc.runtime, bc.image, id}, bc.args...)...); code != 0 {
					b.Fatalf("%s: exit %d: %s", id, code, errs)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}

// memoryOf sums the resident memory (RSS) and the proportional set size
// (PSS: shared pages, such as the binary's, divided among the processes
// sharing them) of the processes match selects, in bytes.
func memoryOf(match func(exe string, cmdline []byte) bool) (rss, pss int64, n int) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !match(exe, cmdline) {
			continue
		}
		rollup, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "smaps_rollup"))
		n++
		for _, line := range strings.Split(string(rollup), "\n") {
			for _, f := range []struct {
				key string
				dst *int64
			}{{"Rss:", &rss}, {"Pss:", &pss}} {
				if v, ok := strings.CutPrefix(line, f.key); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					*f.dst += kb * 1024
				}
			}
		}
	}
	return rss, pss, n
}

// BenchmarkShimRSS reports the shims' resident memory per container for
// 10 long-running containers: each with a shim of its own, and all in one
// pod (one shim), next to containerd's runc shim. Run with -benchtime 1x.
func BenchmarkShimRSS(b *testing.B) {
	c, imgs := setup(b)
	const n = 10
	isShim := func(exe string, cmdline []byte) bool {
		return strings.HasPrefix(exe, shimDir+"/") && !strings.HasSuffix(string(cmdline), "init\x00")
	}
	isRuncShim := func(exe string, _ []byte) bool { return strings.HasSuffix(exe, "/containerd-shim-runc-v2") }
	for _, bc := range []struct {
		name, runtime, image string
		args, extra          []string
		match                func(string, []byte) bool
	}{
		{"wasmrt-wasm-own-shims", runtimeName, imgs.probe, []string{"/probe.wasm", "sleep", "600"}, nil, isShim},
		{"wasmrt-wasm-one-pod", runtimeName, imgs.probe, []string{"/probe.wasm", "sleep", "600"}, []string{"--annotation=io.kubernetes.cri.sandbox-id=bench"}, isShim},
		{"wasmrt-native-own-shims", runtimeName, imgs.native, []string{"sleep", "600"}, nil, isShim},
		{"runc-native-own-shims", "io.containerd.runc.v2", imgs.native, []string{"sleep", "600"}, nil, isRuncShim},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var ids []string
			for i := range n {
				id := fmt.Sprintf("%s-%d", bc.name, i)
				args := append(append([]string{"run", "-d"}, bc.extra...), "--runtime", bc.runtime, bc.image, id)
				c.MustCtr(b, append(args, bc.args...)...)
				ids = append(ids, id)
			}
			for _, id := range ids {
				waitFor(b, id+" to run", func() bool { return taskStatus(c, id) == "RUNNING" })
			}
			rss, pss, procs := memoryOf(bc.match)
			b.ReportMetric(float64(rss)/n/(1<<20), "RSS-MB/container")
			b.ReportMetric(float64(pss)/n/(1<<20), "PSS-MB/container")
			b.ReportMetric(float64(procs), "shims")
			for _, id := range ids {
				removeTask(b, c, id)
			}
		})
	}
}
