package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options configure Open.
type Options struct {
	// Platform selects the image of a multi-platform index; zero means
	// the first of DefaultPlatforms the index has (and any of them for an
	// image named directly).
	Platform v1.Platform
	// Insecure speaks plain HTTP to every registry (loopback registries
	// always get plain HTTP).
	Insecure bool
	// Keychain resolves registry credentials; nil means the docker keychain
	// (~/.docker/config.json, $DOCKER_CONFIG, credential helpers).
	Keychain authn.Keychain
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
	// UserAgent is sent to registries.
	UserAgent string
}

// Image is one resolved, platform-selected image.
type Image struct {
	Source Source
	// Ref is the resolved reference: the source plus the manifest digest.
	Ref string
	// Digest is the image manifest's digest; IndexDigest the digest of the
	// index it was selected from (zero when the source named a manifest).
	Digest      v1.Hash
	IndexDigest v1.Hash
	MediaType   types.MediaType
	Platform    v1.Platform
	Manifest    *v1.Manifest
	Config      *v1.ConfigFile
	Layers      []Layer

	img    v1.Image
	closer func() error
}

// Layer describes one layer of an image, bottom first.
type Layer struct {
	// Digest of the stored blob; zero for docker archives with uncompressed
	// layers, whose "digest" would be synthesized rather than stored.
	Digest    v1.Hash
	DiffID    v1.Hash
	MediaType types.MediaType
	Size      int64

	layer v1.Layer
	// stored is false when the source keeps the layer uncompressed and only
	// Uncompressed reads it as stored (docker archives of that shape).
	stored bool
}

// Open resolves src to one image. The caller must Close it.
func Open(ctx context.Context, src Source, opts Options) (*Image, error) {
	wants := []v1.Platform{opts.Platform}
	if opts.Platform.OS == "" {
		wants = DefaultPlatforms
	}
	var (
		im  *Image
		err error
	)
	switch src.Kind {
	case KindRegistry:
		im, err = openRemote(ctx, src, opts, wants)
	case KindOCILayout, KindOCIArchive:
		im, err = openOCI(src, wants)
	case KindDockerArchive:
		im, err = openDockerArchive(src)
	default:
		err = fmt.Errorf("image %s: unknown source kind %q", src, src.Kind)
	}
	if err != nil {
		return nil, err
	}
	if err := im.load(); err != nil {
		im.Close()
		return nil, err
	}
	// An image named directly (not through an index) may be for another
	// platform than asked for; its config is the truth.
	if !matchAny(im.Platform, wants) {
		im.Close()
		return nil, platformMismatch(src, &im.Platform, wants)
	}
	return im, nil
}

// Close releases files held by a local source.
func (im *Image) Close() error {
	if im.closer == nil {
		return nil
	}
	err := im.closer()
	im.closer = nil
	return err
}

func openRemote(ctx context.Context, src Source, opts Options, wants []v1.Platform) (*Image, error) {
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithPlatform(wants[0])}
	if opts.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opts.Transport))
	}
	if opts.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(opts.UserAgent))
	}
	ref := src.Ref
	desc, err := remote.Get(ref, ropts...)
	if err != nil {
		return nil, registryError(src, err)
	}
	im := &Image{Source: src}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError(src, err)
		}
		im.IndexDigest = desc.Digest
		img, err = imageFromIndex(idx, wants, "image "+src.String())
		if err != nil {
			return nil, registryError(src, err)
		}
	} else {
		img, err = desc.Image()
		if err != nil {
			return nil, registryError(src, err)
		}
	}
	im.img = img
	return im, nil
}

// imageFromIndex selects want from an index, descending into nested indexes.
func imageFromIndex(idx v1.ImageIndex, want []v1.Platform, what string) (v1.Image, error) {
	for depth := 0; depth < 4; depth++ {
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		d, err := selectManifest(m, want, what)
		if err != nil {
			return nil, err
		}
		if d.MediaType.IsImage() {
			return idx.Image(d.Digest)
		}
		if idx, err = idx.ImageIndex(d.Digest); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: indexes nested too deeply", what)
}

// registryError turns transport failures into messages that name the image
// and say what the registry (or the network) answered.
func registryError(src Source, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return fmt.Errorf("image %s: registry %s answered: %w", src, src.Ref.Context().RegistryStr(), err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("image %s: cannot connect to registry %s: connection refused (is it running and listening on that port?)", src, src.Ref.Context().RegistryStr())
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("image %s: cannot resolve registry host %s: %w", src, src.Ref.Context().RegistryStr(), err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("image %s: registry %s speaks plain HTTP; use --insecure if you trust it: %w", src, src.Ref.Context().RegistryStr(), err)
	}
	return fmt.Errorf("image %s: %w", src, err)
}

func openOCI(src Source, wants []v1.Platform) (*Image, error) {
	var (
		store blobStore
		err   error
	)
	if src.Kind == KindOCIArchive {
		store, err = openTarStore(src.Path)
	} else {
		store, err = openDirStore(src.Path)
	}
	if err != nil {
		return nil, err
	}
	im, err := openFromStore(store, src, wants)
	if err != nil {
		store.close()
		return nil, err
	}
	im.closer = store.close
	return im, nil
}

func openFromStore(store blobStore, src Source, wants []v1.Platform) (*Image, error) {
	top, err := readIndexJSON(store)
	if err != nil {
		return nil, err
	}
	what := "image " + src.String()
	var desc v1.Descriptor
	switch {
	case src.Digest != nil:
		found := false
		for _, d := range top.Manifests {
			if d.Digest == *src.Digest {
				desc, found = d, true
				break
			}
		}
		if !found {
			// A digest need not be listed at top level (e.g. one platform's
			// manifest inside an index); read the blob and learn its type.
			b, err := readVerified(store, *src.Digest)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			desc = v1.Descriptor{Digest: *src.Digest, Size: int64(len(b)), MediaType: sniffMediaType(b)}
		}
	case src.Tag != "":
		var names []string
		found := false
		for _, d := range top.Manifests {
			n := refName(d)
			if n == "" {
				continue
			}
			names = append(names, n)
			if n == src.Tag || strings.HasSuffix(n, ":"+src.Tag) {
				desc, found = d, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: %s has no image tagged %q; tags present: %s", what, store.describe(), src.Tag, listOrNone(names))
		}
	default:
		switch len(top.Manifests) {
		case 0:
			return nil, fmt.Errorf("%s: %s lists no images", what, store.describe())
		case 1:
			desc = top.Manifests[0]
		default:
			// Several entries: either one image per platform (treat
			// index.json itself as the index) or several images, which need
			// a selector.
			allPlatforms := true
			var names []string
			for _, d := range top.Manifests {
				if d.Platform == nil {
					allPlatforms = false
				}
				if n := refName(d); n != "" {
					names = append(names, n)
				}
			}
			if !allPlatforms {
				return nil, fmt.Errorf("%s: %s holds %d images; pick one with :TAG or @DIGEST (tags present: %s)", what, store.describe(), len(top.Manifests), listOrNone(names))
			}
			d, err := selectManifest(top, wants, what)
			if err != nil {
				return nil, err
			}
			desc = d
		}
	}
	im := &Image{Source: src}
	for depth := 0; ; depth++ {
		if depth > 4 {
			return nil, fmt.Errorf("%s: indexes nested too deeply", what)
		}
		b, err := readVerified(store, desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		mt := desc.MediaType
		if mt == "" {
			mt = sniffMediaType(b)
		}
		if mt.IsIndex() {
			idx, err := v1.ParseIndexManifest(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("%s: index %s: %w", what, desc.Digest, err)
			}
			if im.IndexDigest == (v1.Hash{}) {
				im.IndexDigest = desc.Digest
			}
			if desc, err = selectManifest(idx, wants, what); err != nil {
				return nil, err
			}
			continue
		}
		if !mt.IsImage() {
			return nil, fmt.Errorf("%s: %s is a %q, not an image manifest or index", what, desc.Digest, mt)
		}
		desc.MediaType = mt
		img, err := newStoreImage(store, desc, b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		im.img = img
		return im, nil
	}
}

func refName(d v1.Descriptor) string {
	if n := d.Annotations["org.opencontainers.image.ref.name"]; n != "" {
		return n
	}
	return d.Annotations["io.containerd.image.name"]
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// sniffMediaType reads the mediaType field of a manifest or index, falling
// back to the field that tells them apart when it is absent (it is optional
// in OCI manifests).
func sniffMediaType(b []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests []any           `json:"manifests"`
		Config    any             `json:"config"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.Manifests != nil:
		return types.OCIImageIndex
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return ""
}

func openDockerArchive(src Source) (*Image, error) {
	var tag *name.Tag
	if src.Tag != "" {
		t, err := name.NewTag(src.Tag)
		if err != nil {
			return nil, fmt.Errorf("image %s: %q is not a valid repository tag: %w", src, src.Tag, err)
		}
		tag = &t
	}
	img, err := tarball.ImageFromPath(src.Path, tag)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading docker archive: %w", src, err)
	}
	return &Image{Source: src, img: img}, nil
}

func platformMismatch(src Source, have *v1.Platform, want []v1.Platform) error {
	h := "an unknown platform"
	if have != nil && have.OS != "" {
		h = FormatPlatform(*have)
	}
	return fmt.Errorf("image %s is for %s, not %s (choose the platform with --platform)", src, h, formatPlatforms(want))
}

// load fills in digests, manifest, config and layers, and checks that the
// config's platform and diffIDs agree with the manifest.
func (im *Image) load() error {
	what := "image " + im.Source.String()
	var err error
	if im.Digest, err = im.img.Digest(); err != nil {
		return fmt.Errorf("%s: manifest digest: %w", what, err)
	}
	if im.MediaType, err = im.img.MediaType(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if im.Manifest, err = im.img.Manifest(); err != nil {
		return fmt.Errorf("%s: manifest: %w", what, err)
	}
	if im.Config, err = im.img.ConfigFile(); err != nil {
		return fmt.Errorf("%s: config: %w", what, err)
	}
	if p := im.Config.Platform(); p != nil {
		im.Platform = *p
	}
	if im.Platform.OS == "" || im.Platform.Architecture == "" {
		return fmt.Errorf("%s: config names no os/architecture", what)
	}
	switch im.Source.Kind {
	case KindRegistry:
		im.Ref = DisplayRef(im.Source.Ref.Context().Digest(im.Digest.String()))
	case KindDockerArchive:
		// Its manifest digest is synthesized by the reader, not stored.
		im.Ref = im.Source.Raw
	default:
		im.Ref = string(im.Source.Kind) + ":" + im.Source.Path + "@" + im.Digest.String()
	}

	layers, err := im.img.Layers()
	if err != nil {
		return fmt.Errorf("%s: layers: %w", what, err)
	}
	diffIDs := im.Config.RootFS.DiffIDs
	if len(diffIDs) != len(layers) {
		return fmt.Errorf("%s: config lists %d diffIDs but the manifest has %d layers", what, len(diffIDs), len(layers))
	}
	for i, l := range layers {
		mt, err := l.MediaType()
		if err != nil {
			return fmt.Errorf("%s: layer %d: %w", what, i, err)
		}
		if err := checkLayerMediaType(mt); err != nil {
			return fmt.Errorf("%s: layer %d: %w", what, i, err)
		}
		info := Layer{DiffID: diffIDs[i], MediaType: mt, layer: l, stored: true}
		if im.Source.Kind == KindDockerArchive {
			// docker save archives keep layers as they were built (often
			// uncompressed); read them as stored and check the diffID only.
			info.stored = false
			info.Size, _ = l.Size()
		} else {
			if info.Digest, err = l.Digest(); err != nil {
				return fmt.Errorf("%s: layer %d: %w", what, i, err)
			}
			if info.Size, err = l.Size(); err != nil {
				return fmt.Errorf("%s: layer %s: %w", what, info.Digest, err)
			}
		}
		im.Layers = append(im.Layers, info)
	}
	return nil
}

func checkLayerMediaType(mt types.MediaType) error {
	switch mt {
	case types.DockerLayer, types.DockerUncompressedLayer, types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer:
		return nil
	case types.DockerForeignLayer, types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer:
		return fmt.Errorf("foreign (non-distributable) layer of type %s is not supported", mt)
	}
	if strings.Contains(string(mt), "encrypted") {
		return fmt.Errorf("encrypted layer (%s) is not supported", mt)
	}
	return fmt.Errorf("unsupported layer media type %q", mt)
}

// OpenBlob returns the layer's bytes as stored (compressed or not). The
// stream is not verified: decode it with convert/layer, which checks the
// digest and diffID while it decompresses.
func (im *Image) OpenBlob(i int) (io.ReadCloser, error) {
	l := im.Layers[i]
	if l.stored {
		return l.layer.Compressed()
	}
	return l.layer.Uncompressed()
}

// BlobSize is the length OpenBlob's stream must have, or 0 when no
// manifest states it (docker archives, read as uncompressed tars).
func (l Layer) BlobSize() int64 {
	if l.stored {
		return l.Size
	}
	return 0
}

// Name returns a short name for layer i: its digest, or its diffID when the
// source stores no digest.
func (l Layer) Name() string {
	if l.Digest != (v1.Hash{}) {
		return l.Digest.String()
	}
	return l.DiffID.String()
}
