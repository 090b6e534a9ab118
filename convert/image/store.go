package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxMetadataSize bounds index.json, manifests and configs read from local
// stores: a hostile archive must not make us read gigabytes of JSON.
const maxMetadataSize = 16 << 20

// blobStore reads the files of an OCI image layout, from a directory or from
// inside a tar archive.
type blobStore interface {
	// open returns the named file (slash-separated, relative to the layout root).
	open(name string) (io.ReadCloser, int64, error)
	close() error
	describe() string
}

// dirStore is an OCI layout directory. It opens files through os.Root so that
// symlinks inside the layout cannot make us read files outside it.
type dirStore struct {
	dir  string
	root *os.Root
}

func openDirStore(dir string) (*dirStore, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return &dirStore{dir: dir, root: root}, nil
}

func (d *dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file", name)
	}
	return f, st.Size(), nil
}

func (d *dirStore) close() error     { return d.root.Close() }
func (d *dirStore) describe() string { return "OCI layout " + d.dir }

// tarStore is an OCI layout packed in a tar file (an "oci-archive"). It
// indexes the archive once and serves each member as a section of the file,
// so nothing is extracted to disk.
type tarStore struct {
	file    string
	f       *os.File
	members map[string]section
}

type section struct{ off, size int64 }

func openTarStore(file string) (*tarStore, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("OCI archive: %w", err)
	}
	members, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("OCI archive %s: %w", file, err)
	}
	return &tarStore{file: file, f: f, members: members}, nil
}

// indexTar records where each regular member's data lives in the file. The
// tar reader reads headers block by block from the file and seeks over data,
// so the file offset right after Next is the member's first data byte.
func indexTar(f *os.File) (map[string]section, error) {
	tr := tar.NewReader(f)
	members := map[string]section{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories, links and anything exotic are not part of a layout we read
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, err
		}
		name := path.Clean("/" + h.Name)[1:]
		members[name] = section{off: off, size: h.Size}
	}
	return members, nil
}

func (t *tarStore) open(name string) (io.ReadCloser, int64, error) {
	s, ok := t.members[name]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return io.NopCloser(io.NewSectionReader(t.f, s.off, s.size)), s.size, nil
}

func (t *tarStore) close() error     { return t.f.Close() }
func (t *tarStore) describe() string { return "OCI archive " + t.file }

func blobPath(h v1.Hash) (string, error) {
	if h.Algorithm != "sha256" && h.Algorithm != "sha512" {
		return "", fmt.Errorf("unsupported digest algorithm %q", h.Algorithm)
	}
	if _, err := hex.DecodeString(h.Hex); err != nil || h.Hex == "" {
		return "", fmt.Errorf("malformed digest %q", h.String())
	}
	return "blobs/" + h.Algorithm + "/" + h.Hex, nil
}

// readVerified reads a small metadata blob (index, manifest, config) and
// checks its digest: local layouts are not trusted to be intact.
func readVerified(s blobStore, h v1.Hash) ([]byte, error) {
	p, err := blobPath(h)
	if err != nil {
		return nil, err
	}
	rc, size, err := s.open(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	defer rc.Close()
	if size > maxMetadataSize {
		return nil, fmt.Errorf("blob %s: %d bytes is too large for a manifest or config (limit %d)", h, size, maxMetadataSize)
	}
	b, err := io.ReadAll(io.LimitReader(rc, maxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	if got := digestOf(h.Algorithm, b); got != h.Hex {
		return nil, fmt.Errorf("blob %s: digest mismatch: content hashes to %s:%s", h, h.Algorithm, got)
	}
	return b, nil
}

// digestOf returns the hex digest of b with a supported algorithm (blobPath
// has already rejected others).
func digestOf(alg string, b []byte) string {
	if alg == "sha512" {
		sum := sha512.Sum512(b)
		return hex.EncodeToString(sum[:])
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func readIndexJSON(s blobStore) (*v1.IndexManifest, error) {
	rc, size, err := s.open("index.json")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no index.json: not an OCI image layout", s.describe())
		}
		return nil, fmt.Errorf("%s: index.json: %w", s.describe(), err)
	}
	defer rc.Close()
	if size > maxMetadataSize {
		return nil, fmt.Errorf("%s: index.json is too large (%d bytes)", s.describe(), size)
	}
	var idx v1.IndexManifest
	if err := json.NewDecoder(io.LimitReader(rc, maxMetadataSize)).Decode(&idx); err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", s.describe(), err)
	}
	return &idx, nil
}

// storeImage is a partial.CompressedImageCore over a blob store with a
// verified manifest and config.
type storeImage struct {
	store     blobStore
	mediaType types.MediaType
	manifest  []byte
	config    []byte
	layers    map[v1.Hash]v1.Descriptor
}

var _ partial.CompressedImageCore = (*storeImage)(nil)

func newStoreImage(s blobStore, desc v1.Descriptor, manifest []byte) (v1.Image, error) {
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	cfg, err := readVerified(s, m.Config.Digest)
	if err != nil {
		return nil, fmt.Errorf("config of manifest %s: %w", desc.Digest, err)
	}
	mt := desc.MediaType
	if m.MediaType != "" {
		mt = m.MediaType
	}
	si := &storeImage{store: s, mediaType: mt, manifest: manifest, config: cfg, layers: map[v1.Hash]v1.Descriptor{}}
	for _, l := range m.Layers {
		si.layers[l.Digest] = l
	}
	return partial.CompressedToImage(si)
}

func (si *storeImage) MediaType() (types.MediaType, error) { return si.mediaType, nil }
func (si *storeImage) RawManifest() ([]byte, error)        { return si.manifest, nil }
func (si *storeImage) RawConfigFile() ([]byte, error)      { return si.config, nil }

func (si *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	d, ok := si.layers[h]
	if !ok {
		return nil, fmt.Errorf("layer %s is not in the manifest", h)
	}
	return &storeLayer{store: si.store, desc: d}, nil
}

type storeLayer struct {
	store blobStore
	desc  v1.Descriptor
}

func (l *storeLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storeLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storeLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

func (l *storeLayer) Compressed() (io.ReadCloser, error) {
	p, err := blobPath(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	rc, _, err := l.store.open(p)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %s: %w", l.desc.Digest, l.store.describe(), err)
	}
	return rc, nil
}
