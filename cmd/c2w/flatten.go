package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert"
	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/rootfs"
)

// flattenFlags are the flags of every command that flattens an image: the
// intake flags and the decompression budget.
type flattenFlags struct {
	intake      intakeFlags
	maxSize     string
	compression string
}

func (f *flattenFlags) register(cmd *cobra.Command) {
	f.intake.register(cmd)
	cmd.Flags().StringVar(&f.maxSize, "max-size", "", "budget of uncompressed layer bytes (default 16GiB); guards against decompression bombs")
	cmd.Flags().StringVar(&f.compression, "compression", "lz4", `how file data is stored: "lz4" (fast to read), "deflate" (smaller, slower to read) or "none"`)
}

// codec is the rootfs codec --compression names.
func (f *flattenFlags) codec() (rootfs.Codec, error) {
	c, ok := rootfs.Codecs[f.compression]
	if !ok {
		return 0, usageError{fmt.Errorf("--compression %q: use lz4, deflate or none", f.compression)}
	}
	return c, nil
}

// flatten resolves arg, lets check refuse the image before any layer is
// read, flattens the layers (drawing progress bars on a terminal, also for
// the later rootfs write through wopts) and refuses riscv64 programs that
// need the vector extension. The caller closes both results.
func (f *flattenFlags) flatten(cmd *cobra.Command, arg string, wopts *rootfs.WriteOptions, check func(*image.Image) error) (*image.Image, *rootfs.Tree, error) {
	codec, err := f.codec()
	if err != nil {
		return nil, nil, err
	}
	wopts.Codec = codec
	opts := convert.Options{MaxSizeSetting: "--max-size"}
	if f.maxSize != "" {
		n, err := parseSize(f.maxSize)
		if err != nil {
			return nil, nil, usageError{fmt.Errorf("--max-size: %w", err)}
		}
		opts.MaxSize = n
	}
	ctx := cmd.Context()
	im, err := f.intake.open(ctx, arg)
	if err != nil {
		return nil, nil, err
	}
	if err := check(im); err != nil {
		im.Close()
		return nil, nil, err
	}
	if stderr := cmd.ErrOrStderr(); f.intake.showProgress(stderr) {
		opts.Progress = layerProgressBar(stderr, len(im.Layers))
		wopts.Progress = writeProgressBar(stderr)
	}
	tree, err := convert.Flatten(ctx, im, opts)
	if err != nil {
		im.Close()
		return nil, nil, err
	}
	if im.Platform.Architecture == "riscv64" {
		if err := convert.CheckRISCVProfile(tree, &im.Config.Config, "image "+im.Ref); err != nil {
			tree.Close()
			im.Close()
			return nil, nil, err
		}
	}
	return im, tree, nil
}
