package image

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind says where an image comes from.
type Kind string

const (
	KindRegistry      Kind = "registry"
	KindOCILayout     Kind = "oci-layout"
	KindOCIArchive    Kind = "oci-archive"
	KindDockerArchive Kind = "docker-archive"
)

// Source is a parsed image argument.
type Source struct {
	Kind Kind
	// Ref is the registry reference (KindRegistry only).
	Ref name.Reference
	// Path is the directory or file of a local source.
	Path string
	// Tag selects an image of a local source by its ref name annotation (OCI)
	// or repository tag (docker archive); empty means the only image.
	Tag string
	// Digest selects an image or index of an OCI source by digest.
	Digest *v1.Hash
	// Raw is the argument as the user gave it, for messages.
	Raw string
}

// ParseSource parses an image argument:
//
//	alpine:3, library/alpine, docker.io/library/alpine:3, localhost:5000/app:v1, app@sha256:…
//	oci-layout:DIR[:TAG|@DIGEST]
//	oci-archive:FILE.tar[:TAG|@DIGEST]
//	docker-archive:FILE.tar[:REPO:TAG]
//
// Registries on loopback (localhost, 127.0.0.0/8, ::1) are spoken to over
// plain HTTP; insecure makes every registry plain HTTP.
func ParseSource(arg string, insecure bool) (Source, error) {
	src := Source{Raw: arg}
	switch {
	case strings.HasPrefix(arg, "oci-layout:"):
		src.Kind = KindOCILayout
		return parseLocalOCI(src, strings.TrimPrefix(arg, "oci-layout:"))
	case strings.HasPrefix(arg, "oci-archive:"):
		src.Kind = KindOCIArchive
		return parseLocalOCI(src, strings.TrimPrefix(arg, "oci-archive:"))
	case strings.HasPrefix(arg, "docker-archive:"):
		src.Kind = KindDockerArchive
		rest := strings.TrimPrefix(arg, "docker-archive:")
		// The first colon after the file name starts a REPO:TAG selector.
		path, tag := splitPathSelector(rest)
		if path == "" {
			return src, fmt.Errorf("image %q: docker-archive: needs a file name (docker-archive:FILE.tar)", arg)
		}
		src.Path, src.Tag = path, tag
		return src, nil
	}
	if arg == "" {
		return src, fmt.Errorf("image reference is empty")
	}
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "./") || strings.HasPrefix(arg, "../") {
		return src, fmt.Errorf("image %q is a path, not a reference: local inputs are written oci-layout:DIR, oci-archive:FILE.tar or docker-archive:FILE.tar", arg)
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(arg, opts...)
	if err != nil {
		return src, fmt.Errorf("image %q is not a valid reference: %w (local inputs are written oci-layout:DIR, oci-archive:FILE.tar or docker-archive:FILE.tar)", arg, err)
	}
	src.Kind, src.Ref = KindRegistry, ref
	return src, nil
}

func parseLocalOCI(src Source, rest string) (Source, error) {
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		h, err := v1.NewHash(rest[i+1:])
		if err != nil {
			return src, fmt.Errorf("image %q: bad digest %q: %w", src.Raw, rest[i+1:], err)
		}
		src.Digest = &h
		rest = rest[:i]
	}
	path, tag := splitPathSelector(rest)
	if path == "" {
		return src, fmt.Errorf("image %q: %s: needs a path", src.Raw, src.Kind)
	}
	if tag != "" && src.Digest != nil {
		return src, fmt.Errorf("image %q: give a tag or a digest, not both", src.Raw)
	}
	src.Path, src.Tag = path, tag
	return src, nil
}

// splitPathSelector splits "PATH[:SELECTOR]". A colon belongs to the path when
// what follows it looks like a path (contains a slash) so that "dir:v1" picks
// tag v1 while "/a:b/c" stays one path.
func splitPathSelector(s string) (path, selector string) {
	if _, err := os.Stat(s); err == nil {
		return s, "" // an existing file or directory wins over any reading of its colons
	}
	i := strings.Index(s, ":")
	if i < 0 {
		return s, ""
	}
	if strings.Contains(s[i+1:], "/") && !strings.Contains(s[i+1:], ":") {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// DisplayRef returns a reference the way docker prints it: the registry
// "index.docker.io" shown as "docker.io".
func DisplayRef(ref name.Reference) string {
	s := ref.Name()
	if strings.HasPrefix(s, name.DefaultRegistry+"/") {
		s = "docker.io/" + strings.TrimPrefix(s, name.DefaultRegistry+"/")
	}
	return s
}

func (s Source) String() string {
	if s.Kind == KindRegistry {
		return DisplayRef(s.Ref)
	}
	return s.Raw
}
