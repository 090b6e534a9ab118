package image

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	colonDir := filepath.Join(dir, "with:colon")
	if err := os.Mkdir(colonDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in                 string
		kind               Kind
		display, path, tag string
		digest             string
		wantErr            string
	}{
		{in: "alpine:3", kind: KindRegistry, display: "docker.io/library/alpine:3"},
		{in: "library/alpine", kind: KindRegistry, display: "docker.io/library/alpine:latest"},
		{in: "docker.io/library/alpine:3", kind: KindRegistry, display: "docker.io/library/alpine:3"},
		{in: "localhost:5000/app:v1", kind: KindRegistry, display: "localhost:5000/app:v1"},
		{in: "ghcr.io/o/app@sha256:" + strings.Repeat("a", 64), kind: KindRegistry, display: "ghcr.io/o/app@sha256:" + strings.Repeat("a", 64)},
		{in: "oci-layout:/x/y", kind: KindOCILayout, path: "/x/y"},
		{in: "oci-layout:/x/y:v2", kind: KindOCILayout, path: "/x/y", tag: "v2"},
		{in: "oci-layout:rel@sha256:" + strings.Repeat("b", 64), kind: KindOCILayout, path: "rel", digest: "sha256:" + strings.Repeat("b", 64)},
		{in: "oci-layout:" + colonDir, kind: KindOCILayout, path: colonDir},
		{in: "oci-archive:img.tar", kind: KindOCIArchive, path: "img.tar"},
		{in: "oci-archive:img.tar:latest", kind: KindOCIArchive, path: "img.tar", tag: "latest"},
		{in: "docker-archive:img.tar", kind: KindDockerArchive, path: "img.tar"},
		{in: "docker-archive:img.tar:example.com/busybox:1", kind: KindDockerArchive, path: "img.tar", tag: "example.com/busybox:1"},
		{in: "", wantErr: "empty"},
		{in: "UPPER/case", wantErr: "not a valid reference"},
		{in: "/srv/images/app.tar", wantErr: "is a path"},
		{in: "./app", wantErr: "is a path"},
		{in: "oci-layout:", wantErr: "needs a path"},
		{in: "oci-layout:d@sha256:zz", wantErr: "bad digest"},
		{in: "docker-archive:", wantErr: "needs a file name"},
	} {
		src, err := ParseSource(tc.in, false)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSource(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSource(%q): %v", tc.in, err)
			continue
		}
		if src.Kind != tc.kind || src.Path != tc.path || src.Tag != tc.tag {
			t.Errorf("ParseSource(%q) = kind %s path %q tag %q", tc.in, src.Kind, src.Path, src.Tag)
		}
		if tc.display != "" && src.String() != tc.display {
			t.Errorf("ParseSource(%q).String() = %q, want %q", tc.in, src.String(), tc.display)
		}
		if tc.digest != "" && (src.Digest == nil || src.Digest.String() != tc.digest) {
			t.Errorf("ParseSource(%q) digest = %v", tc.in, src.Digest)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := ParsePlatform("linux/arm/v7")
	if err != nil || p.OS != "linux" || p.Architecture != "arm" || p.Variant != "v7" {
		t.Fatalf("ParsePlatform = %+v, %v", p, err)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", "a/b/c/d", "linux/arm/"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q) accepted", bad)
		}
	}
}

// platformImage is a random image whose config says it is for p.
func platformImage(t *testing.T, p v1.Platform, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(256, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Config.Entrypoint = []string{"/bin/sh", "-c"}
	cf.Config.Cmd = []string{"echo hi"}
	cf.Config.Env = []string{"PATH=/usr/bin:/bin"}
	cf.Config.WorkingDir = "/srv"
	cf.Config.User = "1000:1000"
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}, "53/udp": {}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func multiPlatformIndex(t *testing.T) (v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	digests := map[string]v1.Hash{}
	var adds []mutate.IndexAddendum
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "riscv64"}, {OS: "linux", Architecture: "arm", Variant: "v7"}} {
		img := platformImage(t, p, 2)
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests[FormatPlatform(p)] = d
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...), digests
}

func startRegistry(t *testing.T, h http.Handler) string {
	t.Helper()
	if h == nil {
		h = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func openArg(t *testing.T, arg string, opts Options) (*Image, error) {
	t.Helper()
	src, err := ParseSource(arg, false)
	if err != nil {
		t.Fatal(err)
	}
	im, err := Open(context.Background(), src, opts)
	if err == nil {
		t.Cleanup(func() { im.Close() })
	}
	return im, err
}

func TestRegistryPlatformSelection(t *testing.T) {
	host := startRegistry(t, nil)
	idx, digests := multiPlatformIndex(t)
	ref, _ := name.ParseReference(host + "/multi:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()

	im, err := openArg(t, host+"/multi:v1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != digests["linux/amd64"] || im.IndexDigest != idxDigest {
		t.Errorf("default platform picked %s (index %s), want the amd64 manifest %s", im.Digest, im.IndexDigest, digests["linux/amd64"])
	}
	if want := host + "/multi@" + digests["linux/amd64"].String(); im.Ref != want {
		t.Errorf("Ref = %q, want %q", im.Ref, want)
	}
	if len(im.Layers) != 2 || im.Layers[0].Digest.Hex == "" || im.Layers[0].DiffID.Hex == "" {
		t.Errorf("layers = %+v", im.Layers)
	}

	im, err = openArg(t, host+"/multi:v1", Options{Platform: v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}})
	if err != nil || im.Digest != digests["linux/arm/v7"] {
		t.Fatalf("linux/arm/v7: %v, %v", im, err)
	}

	_, err = openArg(t, host+"/multi:v1", Options{Platform: v1.Platform{OS: "linux", Architecture: "s390x"}})
	if err == nil {
		t.Fatal("missing platform accepted")
	}
	for _, want := range []string{"no image for platform linux/s390x", "linux/amd64, linux/arm/v7, linux/riscv64", "--platform"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing-platform error %q lacks %q", err, want)
		}
	}

	// By digest of one manifest: no index involved, and the platform check
	// uses its config.
	im, err = openArg(t, host+"/multi@"+digests["linux/amd64"].String(), Options{})
	if err != nil || im.IndexDigest.Hex != "" {
		t.Fatalf("by digest: %v %v", im, err)
	}
	// Any default platform is fine for an image named directly; others are
	// refused by default and when another one is asked for.
	im, err = openArg(t, host+"/multi@"+digests["linux/riscv64"].String(), Options{})
	if err != nil || im.Platform.Architecture != "riscv64" {
		t.Errorf("riscv64 manifest by digest, no platform asked: %v %v", im, err)
	}
	_, err = openArg(t, host+"/multi@"+digests["linux/arm/v7"].String(), Options{})
	if err == nil || !strings.Contains(err.Error(), "is for linux/arm/v7, not linux/amd64 or linux/riscv64") {
		t.Errorf("platform mismatch of a single manifest: %v", err)
	}
	_, err = openArg(t, host+"/multi@"+digests["linux/amd64"].String(), Options{Platform: v1.Platform{OS: "linux", Architecture: "riscv64"}})
	if err == nil || !strings.Contains(err.Error(), "is for linux/amd64, not linux/riscv64") {
		t.Errorf("platform mismatch of a single manifest with --platform: %v", err)
	}
}

func TestRegistryErrors(t *testing.T) {
	host := startRegistry(t, nil)
	_, err := openArg(t, host+"/nope:latest", Options{})
	if err == nil || !strings.Contains(err.Error(), host+"/nope:latest") || !strings.Contains(err.Error(), "answered: ") || !strings.Contains(err.Error(), "_UNKNOWN") {
		t.Errorf("unknown image: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	_, err = openArg(t, closed+"/app:v1", Options{})
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), closed) {
		t.Errorf("refused connection: %v", err)
	}
}

// TestRegistryAuth checks that credentials come from the docker config file
// ($DOCKER_CONFIG/config.json) as docker and nerdctl users expect.
func TestRegistryAuth(t *testing.T) {
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	const user, pass = "alice", "s3cret"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		reg.ServeHTTP(w, r)
	})
	host := startRegistry(t, h)
	img := platformImage(t, DefaultPlatforms[0], 1)
	ref, _ := name.ParseReference(host + "/private:v1")
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatal(err)
	}

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err := openArg(t, host+"/private:v1", Options{})
	if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") || !strings.Contains(err.Error(), "registry "+host) {
		t.Fatalf("anonymous pull of a private image: %v", err)
	}

	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	if err := os.WriteFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	im, err := openArg(t, host+"/private:v1", Options{})
	if err != nil {
		t.Fatalf("pull with docker config credentials: %v", err)
	}
	rc, err := im.OpenBlob(0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != im.Layers[0].Size {
		t.Errorf("layer blob: %d bytes, %v; want %d", n, err, im.Layers[0].Size)
	}
}

func writeLayout(t *testing.T) (string, v1.ImageIndex, map[string]v1.Hash) {
	t.Helper()
	idx, digests := multiPlatformIndex(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	single := platformImage(t, DefaultPlatforms[0], 1)
	if err := p.AppendImage(single, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "single"})); err != nil {
		t.Fatal(err)
	}
	d, _ := single.Digest()
	digests["single"] = d
	return dir, idx, digests
}

func TestOCILayout(t *testing.T) {
	dir, idx, digests := writeLayout(t)
	idxDigest, _ := idx.Digest()

	_, err := openArg(t, "oci-layout:"+dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "holds 2 images") || !strings.Contains(err.Error(), "v1, single") {
		t.Errorf("ambiguous layout: %v", err)
	}
	im, err := openArg(t, "oci-layout:"+dir+":v1", Options{})
	if err != nil || im.Digest != digests["linux/amd64"] || im.IndexDigest != idxDigest {
		t.Fatalf("by tag: %+v %v", im, err)
	}
	if want := "oci-layout:" + dir + "@" + digests["linux/amd64"].String(); im.Ref != want {
		t.Errorf("Ref = %q, want %q", im.Ref, want)
	}
	im, err = openArg(t, "oci-layout:"+dir+"@"+digests["linux/riscv64"].String(), Options{Platform: v1.Platform{OS: "linux", Architecture: "riscv64"}})
	if err != nil || im.Digest != digests["linux/riscv64"] {
		t.Fatalf("by nested digest: %v %v", im, err)
	}
	_, err = openArg(t, "oci-layout:"+dir+":nope", Options{})
	if err == nil || !strings.Contains(err.Error(), `no image tagged "nope"`) {
		t.Errorf("unknown tag: %v", err)
	}
	im, err = openArg(t, "oci-layout:"+dir+":single", Options{})
	if err != nil || im.Digest != digests["single"] {
		t.Fatalf("single: %v %v", im, err)
	}
	// Layers of a layout are read as stored.
	rc, err := im.OpenBlob(0)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := v1.SHA256(rc)
	rc.Close()
	if err != nil || got != im.Layers[0].Digest {
		t.Errorf("layer blob hashes to %s, want %s (%v)", got, im.Layers[0].Digest, err)
	}

	// A tampered manifest is refused with its digest named.
	mpath := filepath.Join(dir, "blobs", "sha256", digests["single"].Hex)
	b, _ := os.ReadFile(mpath)
	os.Chmod(mpath, 0o644)
	if err := os.WriteFile(mpath, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = openArg(t, "oci-layout:"+dir+":single", Options{})
	if err == nil || !strings.Contains(err.Error(), digests["single"].String()) || !strings.Contains(err.Error(), "digest mismatch") {
		t.Errorf("tampered manifest: %v", err)
	}

	// A blob that is a symlink out of the layout is not followed.
	os.Remove(mpath)
	if err := os.Symlink("/etc/passwd", mpath); err != nil {
		t.Fatal(err)
	}
	_, err = openArg(t, "oci-layout:"+dir+":single", Options{})
	if err == nil || !strings.Contains(err.Error(), "escapes") && !strings.Contains(err.Error(), "outside") {
		t.Errorf("symlinked blob: %v", err)
	}

	_, err = openArg(t, "oci-layout:"+t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Errorf("empty dir: %v", err)
	}
}

// tarDir packs a directory as a tar archive, as `tar -C dir -cf file .` does.
func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		h.Name = "./" + filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOCIArchive(t *testing.T) {
	dir, _, digests := writeLayout(t)
	file := filepath.Join(t.TempDir(), "img.tar")
	tarDir(t, dir, file)
	im, err := openArg(t, "oci-archive:"+file+":v1", Options{})
	if err != nil || im.Digest != digests["linux/amd64"] {
		t.Fatalf("oci-archive: %v %v", im, err)
	}
	for i := range im.Layers {
		rc, err := im.OpenBlob(i)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || got != im.Layers[i].Digest || n != im.Layers[i].Size {
			t.Errorf("archive layer %d hashes to %s (%d bytes), want %s (%d)", i, got, n, im.Layers[i].Digest, im.Layers[i].Size)
		}
	}
	_, err = openArg(t, "oci-archive:"+filepath.Join(t.TempDir(), "missing.tar"), Options{})
	if err == nil || !strings.Contains(err.Error(), "missing.tar") {
		t.Errorf("missing archive: %v", err)
	}
}

func TestDockerArchive(t *testing.T) {
	img := platformImage(t, DefaultPlatforms[0], 2)
	file := filepath.Join(t.TempDir(), "docker.tar")
	tag, _ := name.NewTag("example.com/app:1")
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"docker-archive:" + file, "docker-archive:" + file + ":example.com/app:1"} {
		im, err := openArg(t, arg, Options{})
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		cf, _ := img.ConfigFile()
		if len(im.Layers) != 2 || im.Layers[1].DiffID != cf.RootFS.DiffIDs[1] {
			t.Errorf("%s: layers %+v", arg, im.Layers)
		}
		rc, err := im.OpenBlob(1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if len(b) == 0 {
			t.Errorf("%s: empty layer stream", arg)
		}
	}
	_, err := openArg(t, "docker-archive:"+file+":example.com/other:1", Options{})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown tag in docker archive: %v", err)
	}
}

func TestInfo(t *testing.T) {
	host := startRegistry(t, nil)
	img := platformImage(t, DefaultPlatforms[0], 1)
	ref, _ := name.ParseReference(host + "/app:v1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	im, err := openArg(t, host+"/app:v1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := im.Info()
	if info.Platform != "linux/amd64" || info.User != "1000:1000" || info.WorkingDir != "/srv" ||
		strings.Join(info.ExposedPorts, ",") != "53/udp,8080/tcp" || strings.Join(info.Entrypoint, " ") != "/bin/sh -c" {
		t.Errorf("info = %+v", info)
	}
	var text strings.Builder
	if err := info.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Platform:", "linux/amd64", `["/bin/sh","-c"]`, "Layers (1):", im.Layers[0].Digest.String()} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
}
