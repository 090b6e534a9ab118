package wasmoci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/wasmrt/wasmrt/convert/image"
)

// Options configure Push and Pull.
type Options struct {
	// Insecure speaks plain HTTP to every registry (loopback registries
	// always get plain HTTP).
	Insecure bool
	// Keychain resolves registry credentials; nil means the docker
	// keychain (~/.docker/config.json, $DOCKER_CONFIG, credential helpers).
	Keychain authn.Keychain
	// UserAgent is sent to registries.
	UserAgent string
}

// parseLocation reads a destination or source as c2w reads image
// arguments (image.ParseSource); only registries and OCI layouts hold
// published modules.
func parseLocation(s string, opts Options) (image.Source, error) {
	src, err := image.ParseSource(s, opts.Insecure)
	if err != nil {
		return src, err
	}
	if src.Kind != image.KindRegistry && src.Kind != image.KindOCILayout {
		return src, fmt.Errorf("%q: a module is published to a registry reference or oci-layout:DIR[:TAG], not a %s", s, src.Kind)
	}
	return src, nil
}

// Push writes img to dest, a registry reference or oci-layout:DIR[:TAG]
// (the layout is made when missing; the tag is the manifest's
// org.opencontainers.image.ref.name, replacing an earlier one of the same
// name). It returns the manifest's digest.
func Push(ctx context.Context, img v1.Image, dest string, opts Options) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	loc, err := parseLocation(dest, opts)
	if err != nil {
		return v1.Hash{}, err
	}
	if loc.Kind == image.KindOCILayout {
		if loc.Digest != nil {
			return v1.Hash{}, fmt.Errorf("%q: a destination takes a tag, not a digest", dest)
		}
		return digest, writeLayout(img, loc.Path, loc.Tag)
	}
	if err := remote.Write(loc.Ref, img, remoteOptions(ctx, opts)...); err != nil {
		return v1.Hash{}, registryError("push", loc.Ref, err)
	}
	return digest, nil
}

// Pull reads the module published at src, a registry reference or
// oci-layout:DIR[:TAG|@DIGEST], in either form.
func Pull(ctx context.Context, src string, opts Options) ([]byte, error) {
	loc, err := parseLocation(src, opts)
	if err != nil {
		return nil, err
	}
	var img v1.Image
	if loc.Kind == image.KindOCILayout {
		if img, err = readLayout(loc); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	} else {
		desc, err := remote.Get(loc.Ref, remoteOptions(ctx, opts)...)
		if err != nil {
			return nil, registryError("pull", loc.Ref, err)
		}
		if desc.MediaType.IsIndex() {
			return nil, fmt.Errorf("pull %s: an image index; a converted module is published as one manifest", src)
		}
		if img, err = desc.Image(); err != nil {
			return nil, fmt.Errorf("pull %s: %w", src, err)
		}
	}
	b, err := Extract(img)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return b, nil
}

// registryError names the registry and, for a refusal, where
// credentials come from.
func registryError(op string, ref name.Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s %s: registry %s refused the credentials (%d; they come from the docker config: docker login, ~/.docker/config.json, $DOCKER_CONFIG): %w",
			op, ref, ref.Context().RegistryStr(), terr.StatusCode, err)
	}
	return fmt.Errorf("%s %s: %w", op, ref, err)
}

func remoteOptions(ctx context.Context, opts Options) []remote.Option {
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if opts.UserAgent != "" {
		ro = append(ro, remote.WithUserAgent(opts.UserAgent))
	}
	return ro
}

const refNameAnnotation = "org.opencontainers.image.ref.name"

func writeLayout(img v1.Image, dir, tag string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "index.json")); !errors.Is(serr, os.ErrNotExist) {
			return fmt.Errorf("oci-layout %s: %w", dir, err)
		}
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("oci-layout %s: %w", dir, err)
		}
	}
	var opts []layout.Option
	if tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{refNameAnnotation: tag}))
		// One manifest per tag, as a registry keeps it.
		if err := p.RemoveDescriptors(func(d v1.Descriptor) bool { return d.Annotations[refNameAnnotation] == tag }); err != nil {
			return fmt.Errorf("oci-layout %s: %w", dir, err)
		}
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("oci-layout %s: %w", dir, err)
	}
	return nil
}

// readLayout opens the one manifest of the layout that loc selects (by
// digest, by tag, or the only one).
func readLayout(loc image.Source) (v1.Image, error) {
	p, err := layout.FromPath(loc.Path)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var match []v1.Descriptor
	for _, d := range im.Manifests {
		switch {
		case loc.Digest != nil && d.Digest == *loc.Digest,
			loc.Digest == nil && loc.Tag != "" && d.Annotations[refNameAnnotation] == loc.Tag,
			loc.Digest == nil && loc.Tag == "":
			match = append(match, d)
		}
	}
	if len(match) != 1 {
		return nil, fmt.Errorf("%d manifests match in the layout, want one", len(match))
	}
	return idx.Image(match[0].Digest)
}
