package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	contentapi "github.com/containerd/containerd/api/services/content/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/wasmrt/wasmrt/internal/atomicfile"
)

// Media types of a Wasm OCI artifact (CNCF TAG-Runtime's layout) and of
// the module layers runwasi's images carry.
const (
	wasmConfigMediaType = "application/vnd.wasm.config.v0+json"
	wasmLayerMediaType  = "application/wasm"
)

// namespaceHeader carries the containerd namespace of a GRPC call.
const namespaceHeader = "containerd-namespace"

// moduleStore keeps the modules of Wasm artifacts the shim has run, one
// read-only file per layer digest, shared by every container of the host.
// It is trimmed to moduleStoreSize, least recently used first.
const (
	moduleStore     = "/var/lib/wasmrt/modules"
	moduleStoreSize = 4 << 30
	// maxArtifactBlob bounds the manifests and configs read from the
	// content store.
	maxArtifactBlob = 4 << 20
	// maxModule bounds a module layer.
	maxModule = 4 << 30
)

// artifactModule is the module layer of a container's image when that
// image is a Wasm artifact rather than a file system.
type artifactModule struct {
	layer ocispec.Descriptor
	// title is the layer's file name (org.opencontainers.image.title) when
	// that is a plain *.wasm name, else "module.wasm".
	title string
}

// contentClient is the part of containerd's API the shim reads images
// through.
type contentClient struct {
	containers containersapi.ContainersClient
	images     imagesapi.ImagesClient
	content    contentapi.ContentClient
	namespace  string
}

func dialContainerd(address, namespace string) (*contentClient, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient("unix://"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return &contentClient{
		containers: containersapi.NewContainersClient(conn),
		images:     imagesapi.NewImagesClient(conn),
		content:    contentapi.NewContentClient(conn),
		namespace:  namespace,
	}, conn, nil
}

func (c *contentClient) ctx(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, namespaceHeader, c.namespace)
}

// readBlob reads a whole blob of at most limit bytes and checks its digest.
func (c *contentClient) readBlob(ctx context.Context, d ocispec.Descriptor, limit int64) ([]byte, error) {
	if d.Size < 0 || d.Size > limit {
		return nil, fmt.Errorf("blob %s: size %d out of range", d.Digest, d.Size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, d.Size))
	if err := c.copyBlob(ctx, d, buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// readJSON reads a small JSON blob (a manifest, an index, a config) into v.
func (c *contentClient) readJSON(ctx context.Context, d ocispec.Descriptor, what string, v any) error {
	b, err := c.readBlob(ctx, d, maxArtifactBlob)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	return nil
}

// copyBlob writes blob d to w, checking its size and digest.
func (c *contentClient) copyBlob(ctx context.Context, d ocispec.Descriptor, w io.Writer) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	stream, err := c.content.Read(c.ctx(ctx), &contentapi.ReadContentRequest{Digest: d.Digest.String()})
	if err != nil {
		return fmt.Errorf("read blob %s: %w", d.Digest, errgrpc.ToNative(err))
	}
	verifier := d.Digest.Verifier()
	var n int64
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read blob %s: %w", d.Digest, errgrpc.ToNative(err))
		}
		n += int64(len(resp.Data))
		if n > d.Size {
			return fmt.Errorf("blob %s: longer than its descriptor's %d bytes", d.Digest, d.Size)
		}
		verifier.Write(resp.Data)
		if _, err := w.Write(resp.Data); err != nil {
			return err
		}
	}
	if n != d.Size {
		return fmt.Errorf("blob %s: %d bytes, its descriptor says %d", d.Digest, n, d.Size)
	}
	if !verifier.Verified() {
		return fmt.Errorf("blob %s: content does not match its digest", d.Digest)
	}
	return nil
}

// wasmArtifact returns the module layer of container id's image, or nil
// when the container has no image or its image is not for wasm (most
// containers: their program is in their root file system). Both the CNCF
// artifact (config application/vnd.wasm.config.v0+json) and images whose
// config says architecture wasm and whose layers include one
// application/wasm layer count.
func (c *contentClient) wasmArtifact(ctx context.Context, id string) (*artifactModule, error) {
	cr, err := c.containers.Get(c.ctx(ctx), &containersapi.GetContainerRequest{ID: id})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, errgrpc.ToNative(err))
	}
	ref := cr.Container.Image
	if ref == "" {
		return nil, nil
	}
	ir, err := c.images.Get(c.ctx(ctx), &imagesapi.GetImageRequest{Name: ref})
	if err != nil {
		return nil, fmt.Errorf("image %s of container %s: %w", ref, id, errgrpc.ToNative(err))
	}
	t := ir.Image.Target
	desc := ocispec.Descriptor{MediaType: t.MediaType, Digest: digest.Digest(t.Digest), Size: t.Size}
	manifest, err := c.wasmManifest(ctx, desc)
	if err != nil || manifest == nil {
		return nil, wrapImage(ref, err)
	}
	var cfg struct {
		Architecture string `json:"architecture"`
	}
	if manifest.Config.MediaType != wasmConfigMediaType && manifest.Config.MediaType != ocispec.MediaTypeImageConfig &&
		manifest.Config.MediaType != "application/vnd.docker.container.image.v1+json" {
		return nil, nil
	}
	if err := c.readJSON(ctx, manifest.Config, "config", &cfg); err != nil {
		return nil, wrapImage(ref, err)
	}
	if cfg.Architecture != "wasm" {
		return nil, nil
	}
	var layers []ocispec.Descriptor
	for _, l := range manifest.Layers {
		if l.MediaType == wasmLayerMediaType {
			layers = append(layers, l)
		}
	}
	switch {
	case len(layers) == 0 && manifest.Config.MediaType != wasmConfigMediaType:
		// A wasm image of the ordinary kind: the module is a file of its
		// root file system.
		return nil, nil
	case len(layers) != 1:
		return nil, wrapImage(ref, fmt.Errorf("a Wasm artifact with %d layers of type %s; this runtime runs one module", len(layers), wasmLayerMediaType))
	}
	return &artifactModule{layer: layers[0], title: moduleTitle(layers[0].Annotations[ocispec.AnnotationTitle])}, nil
}

// moduleTitle is the file name the module gets in the container from the
// layer's title annotation. It becomes a mount point there, so only a
// plain *.wasm file name is taken from the image; anything else is
// "module.wasm".
func moduleTitle(annotation string) string {
	title := path.Base(path.Clean("/" + annotation))
	if !strings.HasSuffix(title, ".wasm") || len(title) <= len(".wasm") || strings.ContainsRune(title, 0) {
		return "module.wasm"
	}
	return title
}

func wrapImage(ref string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("image %s: %w", ref, err)
}

// wasmManifest resolves desc to the manifest to run: the manifest itself,
// or the wasm one of an index.
func (c *contentClient) wasmManifest(ctx context.Context, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	for depth := 0; depth < 4; depth++ {
		switch desc.MediaType {
		case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
			var m ocispec.Manifest
			if err := c.readJSON(ctx, desc, "manifest", &m); err != nil {
				return nil, err
			}
			return &m, nil
		case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var idx ocispec.Index
			if err := c.readJSON(ctx, desc, "index", &idx); err != nil {
				return nil, err
			}
			found := false
			for _, m := range idx.Manifests {
				if m.Platform != nil && m.Platform.Architecture == "wasm" {
					desc, found = m, true
					break
				}
			}
			if !found {
				return nil, nil
			}
		default:
			return nil, nil
		}
	}
	return nil, fmt.Errorf("index %s: nested too deeply", desc.Digest)
}

// storeModule makes the module layer a file of the module store, fetching
// it from the content store unless it is there already, and returns its
// path.
func (c *contentClient) storeModule(ctx context.Context, dir string, layer ocispec.Descriptor) (string, error) {
	if layer.Size < 0 || layer.Size > maxModule {
		return "", fmt.Errorf("module layer %s: size %d out of range", layer.Digest, layer.Size)
	}
	// A valid digest's encoded part is hex: a safe file name.
	if err := layer.Digest.Validate(); err != nil {
		return "", fmt.Errorf("module layer %s: %w", layer.Digest, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	file := filepath.Join(dir, string(layer.Digest.Algorithm())+"-"+layer.Digest.Encoded()+".wasm")
	if st, err := os.Stat(file); err == nil && st.Size() == layer.Size {
		now := time.Now()
		_ = os.Chtimes(file, now, now)
		return file, nil
	}
	if err := atomicfile.Write(file, 0o444, func(w io.Writer) error { return c.copyBlob(ctx, layer, w) }); err != nil {
		return "", fmt.Errorf("module layer %s: %w", layer.Digest, err)
	}
	trimModuleStore(dir, moduleStoreSize, file)
	return file, nil
}

// trimModuleStore removes the least recently used modules until the store
// fits size, sparing keep and anything used in the last minute (a
// container about to mount it). A module removed while a container runs it
// stays readable there: the bind mount holds the file.
func trimModuleStore(dir string, size int64, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		path  string
		size  int64
		mtime time.Time
	}
	var all []entry
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		// Modules, not the temporary files of fetches under way.
		if err != nil || !info.Mode().IsRegular() || !strings.HasSuffix(e.Name(), ".wasm") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		all = append(all, entry{filepath.Join(dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mtime.Before(all[j].mtime) })
	for _, e := range all {
		if total <= size {
			return
		}
		if e.path == keep || time.Since(e.mtime) < time.Minute {
			continue
		}
		if os.Remove(e.path) == nil {
			total -= e.size
		}
	}
}

// withArtifactModule rewrites the bundle's config.json so that the
// container runs the module of its Wasm artifact: the module file is
// bind-mounted read-only at /TITLE and is the program. The container's
// arguments are the module's: when the first one names the module
// (TITLE, /TITLE, or any *.wasm) it is the module's argv[0]; otherwise the
// arguments follow /TITLE (for a converted container, they are then the
// guest's command, as with `c2w run MODULE CMD...`).
func withArtifactModule(bundle, module string, a *artifactModule) error {
	cfgPath := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	if spec.Process == nil {
		return fmt.Errorf("%s: no process", cfgPath)
	}
	dest := "/" + a.title
	spec.Process.Args = artifactArgs(spec.Process.Args, a.title)
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: dest, Type: "bind", Source: module,
		Options: []string{"bind", "ro", "nosuid", "nodev"},
	})
	return atomicfile.Write(cfgPath, 0o644, func(w io.Writer) error { return json.NewEncoder(w).Encode(&spec) })
}

// artifactArgs is the process's arguments with the module at /title as
// the program.
func artifactArgs(args []string, title string) []string {
	dest := "/" + title
	if len(args) > 0 {
		first := path.Clean("/" + args[0])
		if first == dest || strings.HasSuffix(args[0], ".wasm") {
			return append([]string{dest}, args[1:]...)
		}
	}
	return append([]string{dest}, args...)
}

// prepareArtifact makes a container whose image is a Wasm artifact run
// its module; other containers are left as they are. Only a container
// with an empty root file system can be one (an artifact has no file
// system layers), and for those it asks containerd (at address, in
// namespace) for the container's image.
func prepareArtifact(ctx context.Context, address, namespace, id, bundle string) error {
	if address == "" {
		return nil
	}
	if empty, err := emptyDir(filepath.Join(bundle, "rootfs")); err != nil || !empty {
		return nil
	}
	c, conn, err := dialContainerd(address, namespace)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	a, err := c.wasmArtifact(ctx, id)
	if errors.Is(err, errdefs.ErrNotFound) {
		// A container made without containerd's metadata (a test, a
		// restored task): nothing to learn.
		return nil
	}
	if err != nil || a == nil {
		return err
	}
	file, err := c.storeModule(ctx, moduleStore, a.layer)
	if err != nil {
		return err
	}
	return withArtifactModule(bundle, file, a)
}

// emptyDir says whether dir has no entries.
func emptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}
