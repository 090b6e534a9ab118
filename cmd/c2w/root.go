package main

import (
	"errors"
	"fmt"
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
	var convert convertFlags
	root := &cobra.Command{
		Use:   "c2w IMAGE OUT.wasm",
		Short: "Convert container images into WebAssembly",
		Long: `c2w turns an OCI container image into what the wasmrt emulator runs.

Images are named as docker and nerdctl users name them (alpine:3,
docker.io/library/alpine:3, localhost:5000/app:v1, app@sha256:…) or as local
inputs: oci-layout:DIR[:TAG|@DIGEST], oci-archive:FILE.tar[:TAG|@DIGEST],
docker-archive:FILE.tar[:REPO:TAG]. Registry credentials come from the docker
config (~/.docker/config.json, $DOCKER_CONFIG, credential helpers).

"c2w IMAGE OUT.wasm" writes one self-contained WebAssembly module (WASI
preview 1) that runs the image's linux/riscv64 userland in an emulated Linux
machine under any WASI host:

  OUT.wasm [FLAGS] [COMMAND [ARG...]]

COMMAND replaces the image's CMD and keeps its ENTRYPOINT, as docker run
does. Flags: --entrypoint, --env NAME=VALUE (repeatable), --env-from-host,
--workdir, --user, --hostname, --memory SIZE, --no-stdin (OUT.wasm --help
lists them). The host's environment stays out of the container unless
--env-from-host is given. Directories the host preopens appear in the
guest at the same path, read-write. The exit status is the container's
(128+N when a signal killed it). "c2w run" converts and runs in one step.`,
		Example: `  c2w docker.io/riscv64/busybox:latest busybox.wasm
  wazero run busybox.wasm sh -c 'uname -m; ls /'
  echo hi | wazero run busybox.wasm cat
  wazero run -mount "$PWD:/work" busybox.wasm --workdir /work ls
  wasmtime run --dir "$PWD::/work" busybox.wasm ls /work
  node --no-turbo-fast-api-calls run.mjs busybox.wasm   # node:wasi, preopens {'/work': '.'}
  c2w run oci-layout:./python:latest python3 -c 'print(6*7)'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("c2w takes IMAGE and OUT.wasm (or a command: inspect, rootfs, run, push, pull, net, browser, serve), got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd, &convert, args[0], args[1])
		},
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	convert.register(root)
	root.Flags().BoolVar(&convert.precompile, "precompile", true, "compile the module into c2w run's cache too, so its first run starts at once (false: only write it)")
	root.Flags().StringVar(&convert.pushTo, "push", "", "also publish the module at this registry reference or oci-layout:DIR[:TAG] (see c2w push)")
	convert.push.register(root, "push-format")
	root.Flags().StringVar(&convert.toBrowser, "to-browser", "", "also write a web site that runs the module in a browser into this directory (see c2w browser)")
	root.AddCommand(newInspectCommand(), newRootfsCommand(), newRunCommand(), newNetCommand(), newPushCommand(), newPullCommand(), newBrowserCommand(), newServeCommand())
	return root
}
