package convert

import (
	"context"
	"fmt"
	"io"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/layer"
	"github.com/wasmrt/wasmrt/convert/rootfs"
)

// DefaultMaxSize is the default budget of uncompressed bytes for one layer
// and of content for one image: large enough for real images, small enough that a decompression bomb
// cannot fill the disk.
const DefaultMaxSize = 16 << 30

// Options configure Flatten.
type Options struct {
	// MaxSize bounds the uncompressed bytes of all layers together; zero
	// means DefaultMaxSize. Errors quote MaxSizeSetting so users know which
	// flag raises it.
	MaxSize        int64
	MaxSizeSetting string
	// TempDir holds the flattening spill file ("" = the system's).
	TempDir string
	// Progress, if set, wraps each layer's stored stream, e.g. to draw a
	// progress bar; done is called when the layer is finished.
	Progress func(i int, l image.Layer, r io.Reader) (wrapped io.Reader, done func())
}

// Flatten applies the image's layers in order and returns the flattened
// tree. Every layer is verified against its digest and diffID while it is
// applied; any failure names the layer. The caller must Close the tree.
//
// MaxSize bounds both the uncompressed bytes of each layer and the content
// the whole tree stores, so neither one bomb nor many layers can exhaust the
// disk behind the spill file.
func Flatten(ctx context.Context, im *image.Image, opts Options) (*rootfs.Tree, error) {
	budget := opts.MaxSize
	if budget <= 0 {
		budget = DefaultMaxSize
	}
	tree, err := rootfs.NewTree(opts.TempDir)
	if err != nil {
		return nil, err
	}
	for i, l := range im.Layers {
		if err := applyLayer(ctx, tree, im, i, l, budget, opts); err != nil {
			tree.Close()
			return nil, err
		}
	}
	return tree, nil
}

func applyLayer(ctx context.Context, tree *rootfs.Tree, im *image.Image, i int, l image.Layer, budget int64, opts Options) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	blob, err := im.OpenBlob(i)
	if err != nil {
		return fmt.Errorf("layer %s: %w", l.Name(), err)
	}
	defer blob.Close()
	var r io.Reader = ctxReader{ctx, blob}
	if opts.Progress != nil {
		var done func()
		r, done = opts.Progress(i, l, r)
		defer done()
	}
	want := layer.Descriptor{Digest: l.Digest, DiffID: l.DiffID, MediaType: l.MediaType, Size: l.BlobSize()}
	return tree.ApplyLayer(r, want,
		layer.Options{MaxSize: budget, MaxSizeSetting: opts.MaxSizeSetting},
		rootfs.ApplyOptions{LayerName: l.Name(), MaxTotalSize: budget})
}

// ctxReader stops a long copy when the context is cancelled (Ctrl-C).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
