package wasmoci

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/container"
)

// Media types of the Wasm OCI artifact.
const (
	ConfigMediaType types.MediaType = "application/vnd.wasm.config.v0+json"
	LayerMediaType  types.MediaType = "application/wasm"
)

// Format is how a module is published.
type Format string

const (
	FormatArtifact Format = "artifact"
	FormatImage    Format = "image"
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatArtifact, FormatImage:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want artifact or image", s)
}

// ModulePath is where the image form keeps the module; it is the image's
// entrypoint.
const ModulePath = "/module.wasm"

// created is the creation time both forms record: the epoch, so that
// publishing the same module twice gives the same digests (the
// module's own bytes say what it is).
var created = time.Unix(0, 0).UTC()

// Annotations of the manifests.
const (
	annotationSource     = "org.opencontainers.image.source"
	annotationBaseName   = "org.opencontainers.image.base.name"
	annotationBaseDigest = "org.opencontainers.image.base.digest"
	annotationPlatform   = "io.github.wasmrt.source.platform"
	annotationTitle      = "org.opencontainers.image.title"
)

// wasmMagic starts every WebAssembly binary module (version 1).
var wasmMagic = []byte{0, 'a', 's', 'm', 1, 0, 0, 0}

// artifactConfig is the artifact's config blob.
type artifactConfig struct {
	Created      time.Time `json:"created"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	LayerDigests []string  `json:"layerDigests"`
}

// Build makes the image of a converted module in format. The module's
// embedded container config names the source image for the annotations
// and gives the image form its exposed ports and labels; a module that
// c2w did not make is refused.
func Build(module []byte, format Format) (v1.Image, error) {
	if !bytes.HasPrefix(module, wasmMagic) {
		return nil, errors.New("not a WebAssembly module")
	}
	cfg, err := pack.ContainerConfig(module)
	if err != nil {
		return nil, err
	}
	anns := map[string]string{}
	if cfg.Image != "" {
		anns[annotationSource] = cfg.Image
		anns[annotationBaseName] = cfg.Image
	}
	if cfg.Digest != "" {
		anns[annotationBaseDigest] = cfg.Digest
	}
	if cfg.Platform != "" {
		anns[annotationPlatform] = cfg.Platform
	}
	var img v1.Image
	switch format {
	case FormatArtifact:
		img, err = buildArtifact(module)
	case FormatImage:
		img, err = buildImage(module, cfg)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, anns).(v1.Image), nil
}

func buildArtifact(module []byte) (v1.Image, error) {
	layer := static.NewLayer(module, LayerMediaType)
	digest, err := layer.Digest()
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(artifactConfig{Created: created, Architecture: "wasm", OS: "wasip1", LayerDigests: []string{digest.String()}})
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: ConfigMediaType, Size: int64(len(config)), Digest: sha256Of(config)},
		// The title names the file generic OCI clients (oras pull) write.
		Layers: []v1.Descriptor{{MediaType: LayerMediaType, Size: int64(len(module)), Digest: digest,
			Annotations: map[string]string{annotationTitle: path.Base(ModulePath)}}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{config: config, manifest: raw, layer: layer, digest: digest})
}

func sha256Of(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// artifact is the artifact form as go-containerregistry's writers take
// it: raw manifest and config, the module's layer.
type artifact struct {
	config, manifest []byte
	layer            v1.Layer
	digest           v1.Hash
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return a.config, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == a.digest {
		return a.layer, nil
	}
	return nil, fmt.Errorf("blob %s is not in the artifact", h)
}

func buildImage(module []byte, cfg *container.Config) (v1.Image, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	hdr := &tar.Header{Name: strings.TrimPrefix(ModulePath, "/"), Mode: 0o755, Size: int64(len(module)), ModTime: created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(module); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerTar := tb.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "wasip1", "wasm", v1.Time{Time: created}
	cf.Config.Entrypoint = []string{ModulePath}
	cf.Config.Labels = cfg.Labels
	if len(cfg.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range cfg.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if cfg.StopSignal != "" {
		cf.Config.StopSignal = cfg.StopSignal
	}
	return mutate.ConfigFile(img, cf)
}

// MaxModuleSize bounds a module read back: a registry or layout cannot
// make the reader hold more.
const MaxModuleSize = 4 << 30

// Extract reads the module out of an image of either form.
func Extract(img v1.Image) ([]byte, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	if m.Config.MediaType == ConfigMediaType {
		var wasm []v1.Layer
		for i, d := range m.Layers {
			if d.MediaType == LayerMediaType {
				wasm = append(wasm, layers[i])
			}
		}
		if len(wasm) != 1 {
			return nil, fmt.Errorf("a Wasm artifact with %d layers of type %s, want one", len(wasm), LayerMediaType)
		}
		rc, err := wasm[0].Compressed()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readModule(rc, "the artifact's layer")
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if cf.OS != "wasip1" || cf.Architecture != "wasm" {
		return nil, fmt.Errorf("an image for %s/%s, not a converted module (wasip1/wasm)", cf.OS, cf.Architecture)
	}
	if len(cf.Config.Entrypoint) == 0 || !strings.HasSuffix(cf.Config.Entrypoint[0], ".wasm") {
		return nil, fmt.Errorf("the image's entrypoint %q is not a module", cf.Config.Entrypoint)
	}
	want := strings.TrimPrefix(path.Clean("/"+cf.Config.Entrypoint[0]), "/")
	// The topmost layer that has the file holds it.
	for i := len(layers) - 1; i >= 0; i-- {
		b, found, err := fileInLayer(layers[i], want)
		if err != nil {
			return nil, err
		}
		if found {
			return b, nil
		}
	}
	return nil, fmt.Errorf("no layer holds the entrypoint %s", cf.Config.Entrypoint[0])
}

func fileInLayer(l v1.Layer, name string) ([]byte, bool, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		entry := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if dir, base := path.Split(entry); base == ".wh."+path.Base(name) && strings.TrimSuffix(dir, "/") == strings.TrimSuffix(path.Dir(name), ".") {
			return nil, false, fmt.Errorf("a layer deletes the entrypoint /%s", name)
		}
		if entry != name {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return nil, false, fmt.Errorf("the entrypoint /%s is not a regular file in its layer", name)
		}
		b, err := readModule(tr, "/"+name)
		return b, true, err
	}
}

func readModule(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(b) > MaxModuleSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", what, MaxModuleSize)
	}
	if !bytes.HasPrefix(b, wasmMagic) {
		return nil, fmt.Errorf("%s is not a WebAssembly module", what)
	}
	return b, nil
}
