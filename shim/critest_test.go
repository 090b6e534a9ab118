package shim_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/testregistry"
)

// TestCritest runs cri-tools' CRI validation suite (critest) against
// containerd's CRI plugin with the runtime handler "wasmrt" and, in the
// same run, "runc" (containerd's runc shim), and fails when wasmrt passes
// fewer specs. Image tests are skipped. There is no network here: the
// images the suite uses are stand-ins built from the host's static busybox
// and small static C programs, served by Debian's docker-registry on
// loopback, which containerd uses as the mirror of the suite's registries.
//
// It takes several minutes, so `make conformance-cri` runs it
// (WASMRT_CRITEST=1); docs/conformance.md has its results.
func TestCritest(t *testing.T) {
	if os.Getenv("WASMRT_CRITEST") == "" {
		t.Skip("the CRI validation suite runs with make conformance-cri (WASMRT_CRITEST=1)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: containerd and containers")
	}
	critest := critestBinary(t)
	registry := testregistry.Start(t)
	pushStandIns(t, registry)
	c := criContainerd(t, fmt.Sprintf(`  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]`+"\n"+
		`    endpoint = ["http://%s"]`+"\n"+
		`  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."gcr.io"]`+"\n"+
		`    endpoint = ["http://%s"]`, registry, registry))
	pause := filepath.Join(t.TempDir(), "pause.tar")
	if err := ctrtest.WriteArchive(ctrtest.PauseImage(t, "example.com/pause:test"), pause); err != nil {
		t.Fatal(err)
	}
	c.MustCtr(t, "images", "import", pause)
	results := map[string]critestResult{}
	for _, handler := range []string{"runc", "wasmrt"} {
		report := filepath.Join(t.TempDir(), handler+".txt")
		cmd := exec.Command(critest, "--runtime-endpoint", "unix://"+c.Address, "--image-endpoint", "unix://"+c.Address,
			"--runtime-handler", handler, "--ginkgo.skip", `\[Conformance\] Image|Image Manager`, "--ginkgo.no-color",
			"--ginkgo.timeout", "40m")
		out, _ := cmd.CombinedOutput()
		if err := os.WriteFile(report, out, 0o644); err != nil {
			t.Fatal(err)
		}
		r := parseCritest(string(out))
		results[handler] = r
		t.Logf("%s: %d passed, %d failed, %d skipped of %d specs (full output: %s)", handler, r.passed, r.failed, r.skipped, r.total, report)
		for _, f := range r.failures {
			t.Logf("  %s failed: %s", handler, f)
		}
		if r.total == 0 {
			t.Fatalf("%s: critest ran nothing:\n%s", handler, tail(string(out), 60))
		}
	}
	if w, r := results["wasmrt"], results["runc"]; w.passed < r.passed {
		t.Errorf("wasmrt passes %d specs, runc %d", w.passed, r.passed)
	}
}

type critestResult struct {
	total, passed, failed, skipped int
	failures                       []string
}

var (
	critestSummary = regexp.MustCompile(`Ran (\d+) of (\d+) Specs`)
	critestCounts  = regexp.MustCompile(`(\d+) Passed \| (\d+) Failed \| \d+ Pending \| (\d+) Skipped`)
	critestFailure = regexp.MustCompile(`^\s*\[FAIL\] (.*)$`)
)

func parseCritest(out string) critestResult {
	var r critestResult
	if m := critestSummary.FindStringSubmatch(out); m != nil {
		fmt.Sscan(m[1], &r.total)
	}
	if m := critestCounts.FindStringSubmatch(out); m != nil {
		fmt.Sscan(m[1], &r.passed)
		fmt.Sscan(m[2], &r.failed)
		fmt.Sscan(m[3], &r.skipped)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := critestFailure.FindStringSubmatch(sc.Text()); m != nil {
			r.failures = append(r.failures, m[1])
		}
	}
	return r
}

// critestBinary builds critest (a Ginkgo test binary) from cri-tools'
// module, copied out of the module cache, into the repository's .cache.
func critestBinary(t *testing.T) string {
	t.Helper()
	root, err := fixtures.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".cache", "cri-tools-"+criToolsVersion, "critest")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	dl := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/cri-tools@"+criToolsVersion)
	dl.Dir = t.TempDir()
	out, err := dl.Output()
	if err != nil {
		t.Fatalf("download cri-tools: %v", err)
	}
	m := regexp.MustCompile(`"Dir": "([^"]+)"`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("download cri-tools: no directory in %s", out)
	}
	src := filepath.Join(t.TempDir(), "cri-tools")
	if out, err := exec.Command("cp", "-r", m[1], src).CombinedOutput(); err != nil {
		t.Fatalf("copy cri-tools: %v: %s", err, out)
	}
	_ = exec.Command("chmod", "-R", "u+w", src).Run()
	build := exec.Command("go", "test", "-c", "-o", bin, "./cmd/critest")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build critest: %v\n%s", err, out)
	}
	return bin
}

// Static C programs the stand-in images need.
const (
	// nonewprivs is installed setuid root: it reports the effective uid
	// it got, which no_new_privs keeps at the caller's.
	nonewprivsSource = `#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\n", (int)geteuid()); return 0; }
`
)

func staticC(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gcc", "-static", "-O2", "-o", filepath.Join(dir, "p"), filepath.Join(dir, "p.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "p"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fullBusybox is the host's static busybox with a link for every applet.
func fullBusybox(t *testing.T) map[string]ctrtest.File {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs a static /bin/busybox (Debian package busybox-static)")
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]ctrtest.File{"bin/busybox": {Data: bb, Mode: 0o755}, "tmp/.keep": {}}
	for _, a := range strings.Fields(string(list)) {
		if a != "busybox" {
			files["bin/"+a] = ctrtest.File{Link: "busybox"}
		}
	}
	files["etc/passwd"] = ctrtest.File{Data: []byte("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")}
	files["etc/group"] = ctrtest.File{Data: []byte("root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n")}
	return files
}

// pushStandIns pushes the images the suite uses to the registry, under the
// names it pulls them by (registry mirrors strip the registry host).
func pushStandIns(t *testing.T, registry string) {
	t.Helper()
	withFiles := func(base map[string]ctrtest.File, extra map[string]ctrtest.File) map[string]ctrtest.File {
		out := map[string]ctrtest.File{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	bb := fullBusybox(t)
	page := map[string]ctrtest.File{"www/index.html": {Data: []byte("<html><body>stand-in web server</body></html>\n")}}
	web := func(port string) []string { return []string{"httpd", "-f", "-p", port, "-h", "/www"} }
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	images := map[string]ctrtest.Image{
		"e2e-test-images/busybox:1.29-2":                   {Files: bb, Cmd: []string{"sh"}},
		"e2e-test-images/nginx:1.14-2":                     {Files: withFiles(bb, page), Cmd: web("80")},
		"e2e-test-images/httpd:2.4.39-4":                   {Files: withFiles(bb, page), Cmd: web("80")},
		"k8s-staging-cri-tools/hostnet-nginx-amd64:latest": {Files: withFiles(bb, page), Cmd: web("12003")},
		"e2e-test-images/nonewprivs:1.3":                   {Files: map[string]ctrtest.File{"usr/local/bin/nnp": {Data: staticC(t, nonewprivsSource), Mode: 0o4755}}, Entrypoint: []string{"/usr/local/bin/nnp"}},
	}
	for repoTag, img := range images {
		img.Ref, img.OS, img.Arch, img.Env = registry+"/"+repoTag, "linux", "amd64", env
		archive := filepath.Join(t.TempDir(), "img.tar")
		if err := ctrtest.WriteArchive(img, archive); err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(img.Ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		i, err := tarball.ImageFromPath(archive, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, i, remote.WithTransport(http.DefaultTransport)); err != nil {
			t.Fatalf("push %s: %v", img.Ref, err)
		}
	}
}
