package browser

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/container"
)

// ModuleName is the module's file name in a site.
const ModuleName = "module.wasm"

// ConfigName is the file that tells the page what to run.
const ConfigName = "c2w.json"

// RootfsName is the rootfs image's file name in a site that fetches it
// lazily.
const RootfsName = "rootfs.img"

// SiteConfig is c2w.json.
type SiteConfig struct {
	// Title names the page: the image the module was converted from.
	Title    string `json:"title"`
	Image    string `json:"image,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Module is the module's URL relative to the page, ModuleBytes its
	// size before any content encoding (for the progress bar).
	Module      string `json:"module"`
	ModuleBytes int64  `json:"moduleBytes"`
	// Rootfs, when set, is the rootfs image the module reads by range
	// requests (it was detached from the module), RootfsBytes its size.
	Rootfs      string `json:"rootfs,omitempty"`
	RootfsBytes int64  `json:"rootfsBytes,omitempty"`
	// Args are the module's arguments: its flags and the command (none:
	// the image's). A page URL's arg parameters replace them.
	Args []string `json:"args,omitempty"`
	// Network asks for a network for the guest from the server's relay
	// (NetPath); a page URL's net=0 declines it.
	Network bool `json:"network,omitempty"`
}

// Options tune Write.
type Options struct {
	// Title replaces the image name as the page's title.
	Title string
	// Args are the module's default arguments (flags, then the command).
	Args []string
	// Network makes the page ask its server for a network (c2w serve
	// --net); without one the guest has loopback only.
	Network bool
	// EmbedRootfs keeps the rootfs in the module, for servers that cannot
	// answer range requests: the guest then starts only once all of the
	// module has arrived. By default the rootfs is a file of its own that
	// the page fetches as the guest reads it.
	EmbedRootfs bool
}

// Write writes a site that runs module, a module c2w converted, into dir
// (with its rootfs as a file of its own unless opt.EmbedRootfs):
// a new directory, an empty one or an earlier site, whose files it
// replaces (others it leaves). Every file is complete or absent: the site
// is built beside dir and renamed into place.
func Write(dir string, module []byte, opt Options) error {
	cfg, err := pack.ContainerConfig(module)
	if err != nil {
		return fmt.Errorf("browser site: %w", err)
	}
	if err := checkTarget(dir); err != nil {
		return err
	}
	files := map[string][]byte{}
	if !opt.EmbedRootfs {
		rest, fsImage, err := pack.Detach(module, container.RootfsBlob)
		if err != nil {
			return fmt.Errorf("browser site: taking the rootfs out of the module (--embed-rootfs keeps it in): %w", err)
		}
		module = rest
		files[RootfsName] = fsImage
	}
	site := SiteConfig{
		Title: opt.Title, Image: cfg.Image, Platform: cfg.Platform,
		Module: ModuleName, ModuleBytes: int64(len(module)), Args: opt.Args, Network: opt.Network,
	}
	if fsImage, ok := files[RootfsName]; ok {
		site.Rootfs, site.RootfsBytes = RootfsName, int64(len(fsImage))
	}
	if site.Title == "" {
		site.Title = shortName(cfg.Image)
	}
	files[ModuleName] = module
	for _, name := range assetNames {
		if files[name], err = asset(name); err != nil {
			return err
		}
	}
	if files[ConfigName], err = json.MarshalIndent(site, "", "  "); err != nil {
		return err
	}
	if files[ModuleName+".gz"], err = compress(module, gzipWriter); err != nil {
		return err
	}
	if files[ModuleName+".br"], err = compress(module, brotliWriter); err != nil {
		return err
	}
	return install(dir, files)
}

// shortName names an image for a title: its last path element and tag,
// without transport, directories or digest ("python:3.13" for
// docker.io/library/python:3.13@sha256:…, "busybox" for
// oci-layout:/srv/busybox).
func shortName(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	for _, transport := range []string{"oci-layout:", "oci-archive:", "docker-archive:"} {
		ref = strings.TrimPrefix(ref, transport)
	}
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	if ref == "" {
		return "container"
	}
	return ref
}

// checkTarget refuses a dir that holds something other than a site.
func checkTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("browser site %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigName)); err != nil {
		return fmt.Errorf("browser site %s: the directory is not empty and holds no %s (not an earlier site): give a new or empty directory", dir, ConfigName)
	}
	return nil
}

// install writes files into a directory beside dir, then moves it or its
// files into place, removing what it wrote on failure.
func install(dir string, files map[string][]byte) (err error) {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("browser site %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("browser site %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("browser site %s: %w", dir, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("browser site %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	}
	// dir exists (checkTarget allowed it): replace the files one by one,
	// and drop an earlier site's file this one does not have.
	for name := range files {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("browser site %s: %w", dir, err)
		}
	}
	if _, ok := files[RootfsName]; !ok {
		if err := os.Remove(filepath.Join(dir, RootfsName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("browser site %s: %w", dir, err)
		}
	}
	return nil
}

// Compression levels trade the site's build time for its size. For the
// 14.5 MB busybox module on a 2-core machine: gzip 6 gives 3.93 MB in
// 0.4 s (9: 3.91 MB, 1.2 s); brotli 9 gives 3.39 MB in 2.2 s, 10 gives
// 3.13 MB in 17 s and 11 gives 3.02 MB in 36 s.
const brotliQuality = 9

func gzipWriter(w io.Writer) io.WriteCloser {
	return gzip.NewWriter(w)
}

func brotliWriter(w io.Writer) io.WriteCloser {
	return brotli.NewWriterLevel(w, brotliQuality)
}

func compress(b []byte, newWriter func(io.Writer) io.WriteCloser) ([]byte, error) {
	var out bytes.Buffer
	w := newWriter(&out)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
