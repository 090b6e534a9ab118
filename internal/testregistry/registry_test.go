package testregistry_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/testregistry"
)

// TestPushAndPullMultiPlatformIndex pushes the two-platform busybox index
// to a real registry and reads it back: the index, each platform's image
// chosen by platform, and every layer must come back with the digests that
// were pushed.
func TestPushAndPullMultiPlatformIndex(t *testing.T) {
	dir := fixtures.OCI(t, fixtures.ImageBusybox)
	host := testregistry.Start(t)

	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Manifests) != 1 {
		t.Fatalf("%s/index.json: %d descriptors, want 1", dir, len(top.Manifests))
	}
	idx, err := root.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}

	ref, err := name.ParseReference(host+"/fixtures/busybox:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("pushing the index: %v", err)
	}

	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatalf("pulling the index: %v", err)
	}
	if got, err := pulled.Digest(); err != nil || got != wantDigest {
		t.Fatalf("pulled index digest %s (%v), pushed %s", got, err, wantDigest)
	}

	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("busybox index has %d manifests, want 2", len(m.Manifests))
	}
	for _, d := range m.Manifests {
		t.Run(d.Platform.String(), func(t *testing.T) {
			img, err := remote.Image(ref, remote.WithPlatform(*d.Platform))
			if err != nil {
				t.Fatalf("pulling %s: %v", d.Platform, err)
			}
			if got, err := img.Digest(); err != nil || got != d.Digest {
				t.Fatalf("pulled %s image %s (%v), pushed %s", d.Platform, got, err, d.Digest)
			}
			want, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			wantLayers := layerDigests(t, want)
			gotLayers := layerDigests(t, img)
			if len(gotLayers) != len(wantLayers) {
				t.Fatalf("pulled %d layers, pushed %d", len(gotLayers), len(wantLayers))
			}
			for i := range wantLayers {
				l, err := img.LayerByDigest(wantLayers[i])
				if err != nil {
					t.Fatal(err)
				}
				// Read the blob from the registry and hash what came back.
				rc, err := l.Compressed()
				if err != nil {
					t.Fatalf("fetching layer %s: %v", wantLayers[i], err)
				}
				got, _, err := v1.SHA256(rc)
				rc.Close()
				if err != nil || got != wantLayers[i] {
					t.Fatalf("layer %d: registry served content hashing to %s (%v), want %s", i, got, err, wantLayers[i])
				}
			}
		})
	}
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var ds []v1.Hash
	for _, l := range m.Layers {
		ds = append(ds, l.Digest)
	}
	return ds
}
