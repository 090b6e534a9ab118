package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/internal/fixtures"
)

type options struct {
	c2w     string
	image   string
	modules string
	only    string
	work    string
	report  string
	jobs    int
	timeout time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.c2w, "c2w", "", "the c2w binary to convert and run the image with (required)")
	flag.StringVar(&o.image, "image", "", "OCI layout of the python-tests fixture image (required)")
	flag.StringVar(&o.modules, "modules", "", "the module list (required; see modules.txt)")
	flag.StringVar(&o.only, "only", "", "comma-separated modules of the list to run (default: all not excluded)")
	flag.StringVar(&o.work, "work", "", "work directory to keep the root filesystem, module and logs in (default: a temporary one, removed at the end)")
	flag.StringVar(&o.report, "report", "", "also write the markdown report to this file")
	flag.IntVar(&o.jobs, "jobs", 2, "modules run at once")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "time limit of one module on one side")
	flag.Parse()
	code, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "guestconformance: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// binfmtEntry is where the kernel shows qemu's registration for riscv64
// ELF files.
const binfmtEntry = "/proc/sys/fs/binfmt_misc/qemu-riscv64"

// pycacheDir is where, on both sides, Python writes its compiled modules
// (PYTHONPYCACHEPREFIX): Debian compiles them at package installation,
// which the fixture's unpacking skips. Shared by every module of a side,
// so that each compiles the standard library once, not once per module.
const pycacheDir = "/var/cache/pyc"

type side struct {
	name string
	// command returns the command that runs "python3 -m test MODULE".
	command func(ctx context.Context, module string) *exec.Cmd
}

type result struct {
	qemu, guest outcome
}

func run(o options) (int, error) {
	for _, f := range []struct{ flag, v string }{{"-c2w", o.c2w}, {"-image", o.image}, {"-modules", o.modules}} {
		if f.v == "" {
			return 0, fmt.Errorf("%s is required", f.flag)
		}
	}
	if os.Geteuid() != 0 {
		return 0, errors.New("must run as root: the qemu side runs in a chroot in its own mount and pid namespaces")
	}
	if st, err := os.ReadFile(binfmtEntry); err != nil || !strings.HasPrefix(string(st), "enabled") {
		return 0, fmt.Errorf("qemu-riscv64 is not registered with binfmt_misc (%s), so programs the tests start would not run under qemu; scripts/conformance-guest.sh registers it", binfmtEntry)
	}
	list, err := os.Open(o.modules)
	if err != nil {
		return 0, err
	}
	mods, err := parseModules(list)
	list.Close()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", o.modules, err)
	}
	if mods, err = selectModules(mods, o.only); err != nil {
		return 0, err
	}

	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "guestconformance-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(work)
	}
	env, err := prepare(o, work)
	if err != nil {
		return 0, err
	}
	sides := []side{qemuSide(filepath.Join(work, "root"), env), guestSide(o.c2w, work)}
	results := runAll(o, work, sides, mods)

	var report bytes.Buffer
	regressions := writeReport(&report, mods, results)
	os.Stdout.Write(report.Bytes())
	if o.report != "" {
		if err := writeFileAtomic(o.report, report.Bytes()); err != nil {
			return 0, err
		}
	}
	if len(regressions) > 0 {
		fmt.Fprintf(os.Stderr, "guestconformance: pass under qemu-riscv64 but not in the converted image: %s\n", strings.Join(regressions, " "))
		return 1, nil
	}
	return 0, nil
}

func selectModules(mods []module, only string) ([]module, error) {
	if only == "" {
		return mods, nil
	}
	byName := map[string]module{}
	for _, m := range mods {
		byName[m.name] = m
	}
	var sel []module
	for _, n := range strings.Split(only, ",") {
		m, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("-only: %s is not in the module list", n)
		}
		sel = append(sel, m)
	}
	return sel, nil
}

// prepare extracts the image's root filesystem for qemu, converts the image
// with c2w and compiles the module once, and returns the image's
// environment.
func prepare(o options, work string) ([]string, error) {
	idx, err := layout.ImageIndexFromPath(o.image)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", o.image, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", o.image, err)
	}
	if len(im.Manifests) != 1 {
		return nil, fmt.Errorf("image %s: expected one manifest, found %d", o.image, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", o.image, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", o.image, err)
	}
	root := filepath.Join(work, "root")
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		logf("extracting the image's root filesystem for qemu-riscv64")
		tmp := root + ".tmp"
		os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return nil, err
		}
		if err := fixtures.ExtractImage(img, tmp); err != nil {
			return nil, fmt.Errorf("image %s: %w", o.image, err)
		}
		if err := os.Rename(tmp, root); err != nil {
			return nil, err
		}
	}
	// What docker run gives a container, as the converted image's
	// machine does: the loopback names and the host name.
	for name, content := range map[string]string{
		"etc/hosts":    linux.EtcHosts("localhost", false),
		"etc/hostname": "localhost\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{filepath.Join(root, pycacheDir), filepath.Join(work, "pycache-guest")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	wasm := filepath.Join(work, "python-tests.wasm")
	if _, err := os.Stat(wasm); errors.Is(err, os.ErrNotExist) {
		logf("converting %s", o.image)
		if out, err := exec.Command(o.c2w, "-q", "--platform", "linux/riscv64", "oci-layout:"+o.image, wasm).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("c2w %s: %v\n%s", o.image, err, out)
		}
	}
	logf("compiling the converted module")
	if out, err := exec.Command(o.c2w, "run", wasm, "python3", "-c", "pass").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("c2w run %s python3 -c pass: %v\n%s", wasm, err, out)
	}
	env := append([]string(nil), cfg.Config.Env...)
	return append(env, "HOME=/root", "PYTHONPYCACHEPREFIX="+pycacheDir), nil
}

// qemuSide runs the module under qemu-riscv64 (through binfmt_misc) in a
// chroot of root, in new mount and pid namespaces with /proc and /dev, with
// only env in the environment.
func qemuSide(root string, env []string) side {
	return side{name: "qemu-riscv64", command: func(ctx context.Context, module string) *exec.Cmd {
		script := `mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && shift && exec chroot "$@"`
		args := []string{"--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script, "sh", root, root, "/usr/bin/env", "-i"}
		args = append(args, env...)
		args = append(args, commandLine(module)...)
		return exec.CommandContext(ctx, "unshare", args...)
	}}
}

// guestSide runs the module in the converted image under c2w run (the
// image's own environment, plus HOME and the compiled-module cache).
func guestSide(c2w, work string) side {
	wasm := filepath.Join(work, "python-tests.wasm")
	return side{name: "converted", command: func(ctx context.Context, module string) *exec.Cmd {
		args := []string{"run", "-v", filepath.Join(work, "pycache-guest") + ":" + pycacheDir, wasm,
			"--env", "HOME=/root", "--env", "PYTHONPYCACHEPREFIX=" + pycacheDir, "--no-stdin"}
		return exec.CommandContext(ctx, c2w, append(args, commandLine(module)...)...)
	}}
}

// commandLine is the command line that runs one module: regrtest,
// in-process and verbose (every test case's result is in the log), or a
// check's script.
func commandLine(module string) []string {
	if c, ok := strings.CutPrefix(module, "check:"); ok {
		return []string{"/bin/sh", "-c", checkScript(c)}
	}
	return []string{"python3", "-m", "test", "-v", module}
}

// runAll runs every module that is not excluded on both sides, o.jobs at a
// time, and keeps each run's output under work/logs.
func runAll(o options, work string, sides []side, mods []module) map[string]*result {
	type job struct {
		side   int
		module string
	}
	results := map[string]*result{}
	var jobs []job
	for _, m := range mods {
		if m.excluded != "" {
			continue
		}
		results[m.name] = &result{}
		for i := range sides {
			jobs = append(jobs, job{i, m.name})
		}
	}
	for _, s := range sides {
		os.MkdirAll(filepath.Join(work, "logs", s.name), 0o755)
	}
	var mu sync.Mutex
	queue := make(chan job)
	var wg sync.WaitGroup
	for range max(o.jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				s := sides[j.side]
				out := runOne(o.timeout, s, j.module, filepath.Join(work, "logs", s.name, j.module+".log"))
				mu.Lock()
				if j.side == 0 {
					results[j.module].qemu = out
				} else {
					results[j.module].guest = out
				}
				mu.Unlock()
				logf("%-14s %-40s %s", s.name, j.module, describe(out))
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	return results
}

func runOne(timeout time.Duration, s side, module, logFile string) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := s.command(ctx, module)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.Stdin = nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start).Seconds()
	os.WriteFile(logFile, buf.Bytes(), 0o644)
	var o outcome
	if strings.HasPrefix(module, "check:") {
		o = parseCheck(buf.String(), err)
	} else {
		o = parseRegrtest(buf.String())
	}
	if ctx.Err() != nil {
		o = outcome{verdict: timedOut, detail: fmt.Sprintf("after %s", timeout)}
	} else if err != nil && o.verdict == passed {
		// regrtest said the module passed but the process failed.
		o = outcome{verdict: crashed, detail: fmt.Sprintf("%v after the summary: %s", err, lastLine(buf.String()))}
	}
	o.seconds = elapsed
	return o
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "guestconformance: "+format+"\n", a...)
}

func writeFileAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}
