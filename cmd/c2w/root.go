package main

import (
	"errors"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// usageError marks bad command lines, which exit with status 2.
type usageError struct{ error }

func isUsageError(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	// cobra's own argument and flag errors.
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "flag needs an argument") ||
		strings.HasPrefix(msg, "invalid argument") || strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires ")
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "c2w",
		Short: "Convert container images into WebAssembly",
		Long: `c2w turns an OCI container image into what the wasmrt emulator runs.

Images are named as docker and nerdctl users name them (alpine:3,
docker.io/library/alpine:3, localhost:5000/app:v1, app@sha256:…) or as local
inputs: oci-layout:DIR[:TAG|@DIGEST], oci-archive:FILE.tar[:TAG|@DIGEST],
docker-archive:FILE.tar[:REPO:TAG]. Registry credentials come from the docker
config (~/.docker/config.json, $DOCKER_CONFIG, credential helpers).`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newInspectCommand(), newRootfsCommand())
	return root
}
