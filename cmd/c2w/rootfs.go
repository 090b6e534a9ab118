package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/rootfs"
	emrootfs "github.com/wasmrt/wasmrt/emulator/rootfs"
	"github.com/wasmrt/wasmrt/internal/atomicfile"
)

func newRootfsCommand() *cobra.Command {
	var (
		flags flattenFlags
		list  bool
	)
	cmd := &cobra.Command{
		Use:   "rootfs IMAGE OUT.img | rootfs --list OUT.img",
		Short: "Flatten an image's layers into a rootfs image, or list one",
		Long: `rootfs pulls IMAGE, verifies every layer against its digest and diffID,
applies the layers in order (OCI whiteouts, hardlinks, devices recorded as
metadata, nothing created on the host) and writes the flattened file system
as a rootfs image (docs/rootfs-format.md) — the file system c2w embeds in a
converted module. OUT.img is written atomically: on any failure nothing is
left behind.

With --list, prints the entries of an existing rootfs image like "tar tv".`,
		Example: `  c2w rootfs docker.io/library/busybox:latest busybox.img
  c2w rootfs --platform linux/amd64 oci-layout:./img:latest amd64.img
  c2w rootfs --list busybox.img | grep bin/sh`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				if len(args) != 1 {
					return usageError{fmt.Errorf("rootfs --list takes one rootfs image file, got %d arguments", len(args))}
				}
				return listRootfs(cmd.OutOrStdout(), args[0])
			}
			if len(args) != 2 {
				return usageError{fmt.Errorf("rootfs takes IMAGE and OUT.img, got %d arguments", len(args))}
			}
			wopts := rootfs.DefaultWriteOptions()
			return writeRootfs(cmd, &flags, args[0], args[1], wopts)
		},
	}
	flags.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&list, "list", false, "list the entries of a rootfs image instead of writing one")
	return cmd
}

func writeRootfs(cmd *cobra.Command, flags *flattenFlags, arg, out string, wopts rootfs.WriteOptions) error {
	start := time.Now()
	// Any platform's rootfs can be written (the x86-64 guest comes next);
	// images the emulator can never run are refused.
	im, tree, err := flags.flatten(cmd, arg, &wopts, func(im *image.Image) error {
		return image.CheckRunnable(im.Platform, "image "+im.Ref)
	})
	if err != nil {
		return err
	}
	defer im.Close()
	defer tree.Close()
	if err := atomicfile.Write(out, 0o644, func(w io.Writer) error {
		return rootfs.Write(w, tree, wopts)
	}); err != nil {
		return err
	}
	if !flags.intake.quiet {
		st, err := os.Stat(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s rootfs of %s (%s) in %.1fs\n", out, image.HumanSize(st.Size()), im.Ref,
			image.FormatPlatform(im.Platform), time.Since(start).Seconds())
	}
	return nil
}

// layerProgressBar draws one byte-counting bar per layer on a terminal.
func layerProgressBar(w io.Writer, n int) func(int, image.Layer, io.Reader) (io.Reader, func()) {
	return func(i int, l image.Layer, r io.Reader) (io.Reader, func()) {
		short := l.Name()
		if len(short) > 19 {
			short = short[:19]
		}
		bar := progressbar.NewOptions64(l.Size,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("layer %d/%d %s", i+1, n, short)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			progressbar.OptionClearOnFinish(),
		)
		pr := progressbar.NewReader(r, bar)
		return &pr, func() { bar.Finish() }
	}
}

// writeProgressBar draws a bar over the file data the rootfs writer stores.
func writeProgressBar(w io.Writer) func(done, total int64) {
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("writing rootfs"),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
			)
		}
		bar.Set64(done)
		if done >= total {
			bar.Finish()
		}
	}
}

func listRootfs(w io.Writer, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	im, err := emrootfs.Open(b)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return rootfs.List(w, im)
}
