package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wasmrt/wasmrt/convert/image"
	emrootfs "github.com/wasmrt/wasmrt/emulator/rootfs"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/testregistry"
)

// run runs c2w in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := doMain(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("c2w %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func layoutRef(t *testing.T, fixture string) string {
	return "oci-layout:" + fixtures.OCI(t, fixture) + ":" + fixtures.RefName
}

func TestInspectPlatforms(t *testing.T) {
	// The fixture's index has linux/riscv64 first and linux/amd64 second:
	// the default is amd64's by preference, not by order.
	ref := layoutRef(t, fixtures.ImageBusybox)
	var amd, riscv image.Info
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", ref)), &amd); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", "--platform", "linux/riscv64", ref)), &riscv); err != nil {
		t.Fatal(err)
	}
	if riscv.Platform != "linux/riscv64" || amd.Platform != "linux/amd64" {
		t.Errorf("platforms = %s, %s", riscv.Platform, amd.Platform)
	}
	if riscv.Digest == amd.Digest || riscv.IndexDigest == "" || riscv.IndexDigest != amd.IndexDigest {
		t.Errorf("digests riscv64 %s amd64 %s (index %s / %s)", riscv.Digest, amd.Digest, riscv.IndexDigest, amd.IndexDigest)
	}
	if len(amd.Layers) != 1 || !strings.HasPrefix(amd.Layers[0].Digest, "sha256:") || len(amd.Env) == 0 {
		t.Errorf("amd64 info = %+v", amd)
	}

	code, _, errOut := run(t, "inspect", "--platform", "linux/s390x", ref)
	if code != 1 || !strings.Contains(errOut, "linux/amd64, linux/riscv64") || !strings.Contains(errOut, "linux/s390x") {
		t.Errorf("missing platform: exit %d, %q", code, errOut)
	}
	text := mustRun(t, "inspect", ref)
	for _, want := range []string{"Platform:", "linux/amd64", "Layers (1):", amd.Layers[0].Digest} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect text lacks %q", want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"inspect"},
		{"inspect", "a", "b"},
		{"rootfs", "only-one-arg"},
		{"rootfs", "--list"},
		{"inspect", "--platform", "linux", "busybox"},
		{"rootfs", "--max-size", "lots", "x", "y"},
		{"no-such-command"},
		{"inspect", "--no-such-flag", "x"},
		{"inspect", "NOT/A:VALID:REF"},
		{"--translate", "some", "x", "y.wasm"},
		{"--translate", "none", "--train", "true", "x", "y.wasm"},
		{"--translate", "trained", "x", "y.wasm"},
		{"--train", "python3 'unclosed", "x", "y.wasm"},
		{"--train", " ", "x", "y.wasm"},
		{"--train", "true", "--train-hot", "2", "x", "y.wasm"},
	} {
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.HasPrefix(errOut, "c2w: ") {
			t.Errorf("c2w %v: exit %d, stderr %q; want a usage error (exit 2)", args, code, errOut)
		}
	}
}

// flatten writes a rootfs image of ref and returns its bytes.
func flatten(t *testing.T, ref string, extra ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.img")
	mustRun(t, append(append([]string{"rootfs", "-q"}, extra...), ref, out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRootfsLayersMatchesExpected flattens the multi-layer fixture (gzip,
// zstd and uncompressed layers with whiteouts, opaque dirs, hardlinks and
// symlinks) and compares every entry of the written image with the result the
// fixture generator declared.
func TestRootfsLayersMatchesExpected(t *testing.T) {
	exp := fixtures.LoadLayersExpected(t)
	img, err := emrootfs.Open(flatten(t, layoutRef(t, fixtures.ImageLayers)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	walkImage(t, img, "", img.Root(), func(p string, ino emrootfs.Ino) { got[p] = true })
	inoOf := map[string]emrootfs.Ino{}
	for _, e := range exp.Entries {
		ino, err := img.LookupPath(e.Path)
		if err != nil {
			t.Errorf("%s: %v", e.Path, err)
			continue
		}
		delete(got, e.Path)
		inoOf[e.Path] = ino
		st, err := img.Stat(ino)
		if err != nil {
			t.Fatal(err)
		}
		typ := map[uint32]string{0o040000: fixtures.TypeDir, 0o100000: fixtures.TypeFile, 0o120000: fixtures.TypeSymlink}[st.Mode&0o170000]
		if typ != e.Type || st.Mode&0o7777 != e.Mode || int(st.UID) != e.UID || int(st.GID) != e.GID || st.MtimeSec != e.MTime {
			t.Errorf("%s: type %s mode %o uid %d gid %d mtime %d; want %s %o %d %d %d", e.Path, typ, st.Mode&0o7777, st.UID, st.GID, st.MtimeSec, e.Type, e.Mode, e.UID, e.GID, e.MTime)
		}
		switch e.Type {
		case fixtures.TypeFile:
			data := make([]byte, st.Size)
			if n, err := img.ReadAt(ino, data, 0); (err != nil && err != io.EOF) || n != len(data) {
				t.Errorf("%s: read %d bytes: %v", e.Path, n, err)
			}
			sum := sha256.Sum256(data)
			if st.Size != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
				t.Errorf("%s: %d bytes sha256 %x; want %d bytes %s", e.Path, st.Size, sum, e.Size, e.SHA256)
			}
		case fixtures.TypeSymlink:
			if target, err := img.Readlink(ino); err != nil || target != e.Target {
				t.Errorf("%s: target %q (%v), want %q", e.Path, target, err, e.Target)
			}
		}
	}
	for _, e := range exp.Entries {
		if e.HardlinkTo != "" && inoOf[e.Path] != inoOf[e.HardlinkTo] {
			t.Errorf("%s is not a hardlink of %s", e.Path, e.HardlinkTo)
		}
	}
	for _, p := range exp.Absent {
		if _, err := img.LookupPath(p); err == nil {
			t.Errorf("%s survived its whiteout", p)
		}
	}
	for p := range got {
		t.Errorf("unexpected entry %s", p)
	}
}

// walkImage calls fn for every entry below dir (not dir itself).
func walkImage(t *testing.T, img *emrootfs.Image, prefix string, dir emrootfs.Ino, fn func(string, emrootfs.Ino)) {
	t.Helper()
	err := img.ReadDir(dir, 0, func(_ int, e emrootfs.DirEntry) bool {
		p := prefix + "/" + e.Name
		fn(p, e.Ino)
		if e.Type == 0o040000 {
			walkImage(t, img, p, e.Ino, fn)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRootfsSameFromEverySource converts the same busybox image from an OCI
// layout, an OCI archive, a docker archive and a real registry server; the
// rootfs images must be byte-identical. The archives hold the riscv64
// image of the layout's index.
func TestRootfsSameFromEverySource(t *testing.T) {
	riscv := []string{"--platform", "linux/riscv64"}
	want := flatten(t, layoutRef(t, fixtures.ImageBusybox), riscv...)

	sources := map[string]string{
		"oci-archive":    "oci-archive:" + fixtures.Archive(t, fixtures.ArchiveBusyboxOCI),
		"docker-archive": "docker-archive:" + fixtures.Archive(t, fixtures.ArchiveBusyboxDocker) + ":" + fixtures.DockerArchiveTag,
	}
	if _, err := exec.LookPath("docker-registry"); err == nil || os.Getenv("CI") != "" {
		host := testregistry.Start(t)
		idx, err := layout.ImageIndexFromPath(fixtures.OCI(t, fixtures.ImageBusybox))
		if err != nil {
			t.Fatal(err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		inner, err := idx.ImageIndex(m.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := name.ParseReference(host + "/test/busybox:v1")
		if err := remote.WriteIndex(ref, inner); err != nil {
			t.Fatal(err)
		}
		sources["registry"] = host + "/test/busybox:v1"
	} else {
		t.Log("docker-registry not installed: registry source not compared (make test installs it)")
	}
	for kind, ref := range sources {
		if got := flatten(t, ref, riscv...); !bytes.Equal(got, want) {
			t.Errorf("%s: rootfs image differs from the OCI layout's (%d vs %d bytes)", kind, len(got), len(want))
		}
	}
}

// TestRootfsListMatchesTar compares `c2w rootfs --list` of single-layer
// images with GNU tar's listing of the layer itself.
func TestRootfsListMatchesTar(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("GNU tar not installed")
	}
	for _, fx := range []string{fixtures.ImageBusybox, fixtures.ImageBash} {
		t.Run(fx, func(t *testing.T) {
			ref := layoutRef(t, fx)
			var info image.Info
			if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", ref)), &info); err != nil {
				t.Fatal(err)
			}
			if len(info.Layers) != 1 {
				t.Skipf("%s has %d layers", fx, len(info.Layers))
			}
			out := filepath.Join(t.TempDir(), "x.img")
			mustRun(t, "rootfs", "-q", ref, out)
			ours := strings.Split(strings.TrimSpace(mustRun(t, "rootfs", "--list", out)), "\n")
			blob := filepath.Join(fixtures.OCI(t, fx), "blobs", "sha256", strings.TrimPrefix(info.Layers[0].Digest, "sha256:"))
			cmd := exec.Command("tar", "--numeric-owner", "-tvzf", blob)
			cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
			tb, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			theirs := strings.Split(strings.TrimSpace(string(tb)), "\n")
			var norm []string
			for _, l := range ours {
				if strings.HasSuffix(l, " ./") {
					continue // the root, which a layer need not list
				}
				norm = append(norm, strings.Replace(l, " ./", " ", 1))
			}
			for i, l := range theirs {
				theirs[i] = strings.Replace(l, " ./", " ", 1)
			}
			sort.Strings(norm)
			sort.Strings(theirs)
			if strings.Join(norm, "\n") != strings.Join(theirs, "\n") {
				t.Errorf("listing differs from tar's:\nours:\n%s\n\ntar:\n%s", strings.Join(head(norm, 10), "\n"), strings.Join(head(theirs, 10), "\n"))
			}
		})
	}
}

func head(s []string, n int) []string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// copyLayout copies an OCI layout so a test can damage it.
func copyLayout(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "layout")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	return dst
}

func TestRootfsBadInputLeavesNothing(t *testing.T) {
	ref := layoutRef(t, fixtures.ImageBusybox)
	var info image.Info
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", ref)), &info); err != nil {
		t.Fatal(err)
	}
	layerHex := strings.TrimPrefix(info.Layers[0].Digest, "sha256:")

	corrupt := copyLayout(t, fixtures.OCI(t, fixtures.ImageBusybox))
	blob := filepath.Join(corrupt, "blobs", "sha256", layerHex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}

	truncated := copyLayout(t, fixtures.OCI(t, fixtures.ImageBusybox))
	tblob := filepath.Join(truncated, "blobs", "sha256", layerHex)
	os.Chmod(tblob, 0o644)
	if err := os.Truncate(tblob, int64(len(b)/3)); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, ref string
		extra     []string
		want      []string
	}{
		{"corrupt layer", "oci-layout:" + corrupt + ":latest", nil, []string{info.Layers[0].Digest}},
		{"truncated layer", "oci-layout:" + truncated + ":latest", nil, []string{info.Layers[0].Digest}},
		{"budget", ref, []string{"--max-size", "64KiB"}, []string{info.Layers[0].Digest, "--max-size"}},
		{"unknown tag", "oci-layout:" + fixtures.OCI(t, fixtures.ImageBusybox) + ":nope", nil, []string{`no image tagged "nope"`}},
		{"missing layout", "oci-layout:" + filepath.Join(t.TempDir(), "missing"), nil, []string{"missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outDir := t.TempDir()
			args := append(append([]string{"rootfs", "-q"}, tc.extra...), tc.ref, filepath.Join(outDir, "out.img"))
			code, _, errOut := run(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("failed conversion left %v in the output directory", entries)
			}
		})
	}

	// A rootfs --list of something that is not a rootfs image names it.
	bogus := filepath.Join(t.TempDir(), "bogus.img")
	os.WriteFile(bogus, []byte("not a rootfs image at all, just text"), 0o644)
	code, _, errOut := run(t, "rootfs", "--list", bogus)
	if code != 1 || !strings.Contains(errOut, bogus) {
		t.Errorf("--list of a bogus file: exit %d %q", code, errOut)
	}
}

// TestRootfsInterrupted cancels a conversion (as Ctrl-C does) and checks
// that no output or temporary file is left.
func TestRootfsInterrupted(t *testing.T) {
	ref := layoutRef(t, fixtures.ImageBash)
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := doMain(ctx, []string{"rootfs", "-q", ref, filepath.Join(outDir, "out.img")}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("interrupted conversion left %v", entries)
	}
}
