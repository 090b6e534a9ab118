package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert/wasmoci"
	"github.com/wasmrt/wasmrt/internal/atomicfile"
)

// pushFlags say where and how a converted module is published.
type pushFlags struct {
	format   string
	insecure bool
}

func (f *pushFlags) register(cmd *cobra.Command, formatFlag string) {
	cmd.Flags().StringVar(&f.format, formatFlag, string(wasmoci.FormatArtifact),
		"artifact: the CNCF Wasm OCI artifact (config application/vnd.wasm.config.v0+json, one application/wasm layer); image: an OCI image for wasip1/wasm with the module as its entrypoint, for runtimes that pull only images")
}

// push publishes module at dest and says where.
func (f *pushFlags) push(ctx context.Context, module []byte, dest string, quiet bool, stderr io.Writer) error {
	format, err := wasmoci.ParseFormat(f.format)
	if err != nil {
		return usageError{err}
	}
	img, err := wasmoci.Build(module, format)
	if err != nil {
		return err
	}
	digest, err := wasmoci.Push(ctx, img, dest, wasmoci.Options{Insecure: f.insecure, UserAgent: "c2w/" + version()})
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(stderr, "%s: pushed as %s (%s)\n", dest, digest, format)
	}
	return nil
}

func newPushCommand() *cobra.Command {
	var (
		f     pushFlags
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "push [FLAGS] MODULE.wasm DEST",
		Short: "Publish a converted module to a registry or an OCI layout",
		Long: `push publishes a module c2w made at DEST, a registry reference
(localhost:5000/app:v1, docker.io/me/app:wasm) or oci-layout:DIR[:TAG], as a
Wasm OCI artifact (the default) or as an OCI image (--format image). The
manifest records the image the module was converted from. Registry
credentials come from the docker config, as for pulls.`,
		Example: `  c2w push busybox.wasm localhost:5000/busybox:wasm
  c2w push --format image busybox.wasm registry.example.com/busybox:wasm-image
  c2w push busybox.wasm oci-layout:./out:busybox`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			module, err := readModule(args[0])
			if err != nil {
				return err
			}
			return f.push(cmd.Context(), module, args[1], quiet, cmd.ErrOrStderr())
		},
	}
	f.register(cmd, "format")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "speak plain HTTP to the registry (loopback registries always get plain HTTP)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no output")
	return cmd
}

func newPullCommand() *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "pull [FLAGS] SRC OUT.wasm",
		Short: "Fetch a published module from a registry or an OCI layout",
		Long: `pull writes the module published at SRC (a registry reference or
oci-layout:DIR[:TAG|@DIGEST]) to OUT.wasm, from a Wasm OCI artifact or an
OCI image for wasip1/wasm (the file its entrypoint names). The module's
digest is checked on the way.`,
		Example: `  c2w pull localhost:5000/busybox:wasm busybox.wasm && wazero run busybox.wasm ls /`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			module, err := wasmoci.Pull(cmd.Context(), args[0], wasmoci.Options{Insecure: insecure, UserAgent: "c2w/" + version()})
			if err != nil {
				return err
			}
			return atomicfile.Write(args[1], 0o755, func(w io.Writer) error {
				_, err := w.Write(module)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&insecure, "insecure", false, "speak plain HTTP to the registry (loopback registries always get plain HTTP)")
	return cmd
}
