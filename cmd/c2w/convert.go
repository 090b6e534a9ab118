package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert/browser"
	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/convert/pack/wasmbin"
	"github.com/wasmrt/wasmrt/convert/rootfs"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/internal/atomicfile"
	"github.com/wasmrt/wasmrt/wasi"
)

// convertFlags are the flags of the commands that build a module.
type convertFlags struct {
	flattenFlags
	translate      translateFlags
	rawExecutables bool
	// precompile compiles the written module into c2w run's cache
	// (`c2w IMAGE OUT.wasm` only).
	precompile bool
	// pushTo, when set, publishes the written module there too.
	pushTo string
	push   pushFlags
	// toBrowser, when set, writes a web site running the module there.
	toBrowser string
}

func (f *convertFlags) register(cmd *cobra.Command) {
	f.flattenFlags.register(cmd)
	f.translate.register(cmd)
	cmd.Flags().BoolVar(&f.rawExecutables, "raw-executables", false, "store programs and shared libraries uncompressed whatever --compression says: no decoding of them at start-up, larger module")
}

// emulatedPlatforms are the platforms the embedded emulator runs.
var emulatedPlatforms = []string{"linux/amd64", "linux/riscv64"}

// convertedModule is a packed module and what it was built from.
type convertedModule struct {
	wasm       []byte
	image      string
	platform   string
	rootfsSize int
}

// convertImage pulls or loads arg, flattens it into a rootfs image and
// packs that and the image config into the emulator module, in memory.
func convertImage(cmd *cobra.Command, f *convertFlags, arg string) (*convertedModule, error) {
	mode, runs, err := f.translate.check()
	if err != nil {
		return nil, err
	}
	emulator, err := emulatorModule()
	if err != nil {
		return nil, err
	}
	wopts := rootfs.DefaultWriteOptions()
	wopts.RawExecutables = f.rawExecutables
	im, tree, err := f.flatten(cmd, arg, &wopts, checkEmulated)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	defer tree.Close()
	plat := image.FormatPlatform(im.Platform)
	var fsImage bytes.Buffer
	if err := rootfs.Write(&fsImage, tree, wopts); err != nil {
		return nil, fmt.Errorf("image %s: writing the rootfs image: %w", im.Ref, err)
	}
	ccfg := imageConfig(im, plat)
	cfgBlob, err := ccfg.Marshal()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", im.Ref, err)
	}
	translated, err := f.translate.translate(cmd, mode, runs, fsImage.Bytes(), ccfg, f.intake.quiet)
	if err != nil {
		return nil, fmt.Errorf("image %s: translating its code: %w", im.Ref, err)
	}
	wasm, err := translated.Link(emulator,
		// Passive: read as the guest touches it, never copied whole into
		// memory at start-up.
		pack.Blob{Name: container.RootfsBlob, Data: fsImage.Bytes(), Passive: true},
		pack.Blob{Name: container.ConfigBlob, Data: cfgBlob})
	if err != nil {
		return nil, fmt.Errorf("packing image %s into the emulator module: %w", im.Ref, err)
	}
	// Hosts (the runtime, the shim) recognise a converted module by this
	// section and give it the container's settings as its own flags.
	wasm = wasmbin.AppendCustomSection(wasm, wasi.ConvertedSection, []byte(wasi.ConvertedVersion))
	return &convertedModule{wasm: wasm, image: im.Ref, platform: plat, rootfsSize: fsImage.Len()}, nil
}

// checkEmulated refuses images the embedded emulator cannot run, before
// any layer is downloaded.
func checkEmulated(im *image.Image) error {
	plat := image.FormatPlatform(im.Platform)
	if err := image.CheckRunnable(im.Platform, "image "+im.Ref); err != nil {
		return err
	}
	if im.Platform.OS != "linux" || (im.Platform.Architecture != "riscv64" && im.Platform.Architecture != "amd64") {
		return fmt.Errorf("image %s is for %s; the emulator runs %v images only — if the image has one of those variants, select it with --platform", im.Ref, plat, emulatedPlatforms)
	}
	return nil
}

// imageConfig is the part of the OCI image config the module needs.
func imageConfig(im *image.Image, plat string) *container.Config {
	c := im.Config.Config
	ports := make([]string, 0, len(c.ExposedPorts))
	for p := range c.ExposedPorts {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	return &container.Config{
		Image: im.Ref, Digest: im.Digest.String(), Platform: plat,
		Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User,
		ExposedPorts: ports, Labels: c.Labels, StopSignal: c.StopSignal,
	}
}

// runConvert is `c2w IMAGE OUT.wasm`.
func runConvert(cmd *cobra.Command, f *convertFlags, arg, out string) error {
	start := time.Now()
	m, err := convertImage(cmd, f, arg)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(out, 0o755, func(w io.Writer) error {
		_, err := w.Write(m.wasm)
		return err
	}); err != nil {
		return err
	}
	if !f.intake.quiet {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s module (rootfs %s) of %s (%s) in %.1fs\n", out,
			image.HumanSize(int64(len(m.wasm))), image.HumanSize(int64(m.rootfsSize)), m.image, m.platform,
			time.Since(start).Seconds())
	}
	if f.pushTo != "" {
		f.push.insecure = f.intake.insecure
		if err := f.push.push(cmd.Context(), m.wasm, f.pushTo, f.intake.quiet, cmd.ErrOrStderr()); err != nil {
			return err
		}
	}
	if f.toBrowser != "" {
		if err := writeSite(cmd.ErrOrStderr(), m.wasm, f.toBrowser, browser.Options{}, f.intake.quiet); err != nil {
			return err
		}
	}
	if f.precompile {
		start := time.Now()
		if err := precompile(cmd.Context(), out, m.wasm); err != nil {
			// The module is written and works; its first run compiles.
			fmt.Fprintf(cmd.ErrOrStderr(), "c2w: warning: %v\n", err)
		} else if !f.intake.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: compiled for c2w run in %.1fs\n", out, time.Since(start).Seconds())
		}
	}
	return nil
}

// precompile compiles a written module into the compilation cache c2w run
// uses, so that its first run does not pay the compilation.
func precompile(ctx context.Context, name string, wasm []byte) error {
	dir := compilationCacheDir()
	if dir == "" {
		return errors.New("no user cache directory to precompile into")
	}
	cache, err := wasi.OpenCache(dir, wasi.DefaultCacheSize)
	if err != nil {
		return err
	}
	// What run will compile: the module without a large image.
	module, _ := runnable(wasm)
	m, err := wasi.New(wasi.Options{Cache: cache}).Compile(ctx, name, module)
	if err != nil {
		return err
	}
	m.Close(ctx)
	_, err = cache.Trim()
	return err
}
