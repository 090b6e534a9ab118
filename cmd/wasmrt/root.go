package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/runtime"
)

// version is the runtime's release, reported by --version and features.
const version = "0.1.0"

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type globals struct {
	root          string
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	wasmCache     string
	wasmCacheSize string
	cacheSize     int64
	log           *slog.Logger
}

func (g *globals) runtime() *runtime.Runtime {
	rt := runtime.New(g.root, g.log)
	rt.SystemdCgroup = g.systemdCgroup
	rt.WasmCache = g.wasmCache
	rt.WasmCacheSize = g.cacheSize
	return rt
}

func doMain(args []string) int {
	// The re-executed init never goes through cobra: it must not parse
	// flags or print help into a container's stdio.
	if len(args) > 0 && args[0] == "init" {
		if err := runtime.RunInit(); err != nil {
			fmt.Fprintln(os.Stderr, "wasmrt init:", err)
		}
		return 1
	}
	g := &globals{}
	root := newRootCommand(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if g.log != nil && g.logPath != "" {
		g.log.Error(err.Error())
	}
	fmt.Fprintln(os.Stderr, "wasmrt:", err)
	return 1
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "wasmrt",
		Short: "Run OCI containers (runtime-spec " + specs.Version + ") with a runc-compatible interface",
		Example: `  wasmrt spec && wasmrt run mycontainer
  wasmrt --root /run/wasmrt list`,
		Version:       fmt.Sprintf("%s\nspec: %s", version, specs.Version),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			n, err := container.ParseSize(g.wasmCacheSize)
			if err != nil {
				return fmt.Errorf("--wasm-cache-size: %w", err)
			}
			g.cacheSize = n
			return g.setupLog()
		},
	}
	root.SetVersionTemplate("wasmrt version {{.Version}}\n")
	f := root.PersistentFlags()
	f.StringVar(&g.root, "root", runtime.DefaultRoot, "directory for container state")
	f.StringVar(&g.logPath, "log", "", "write log messages to this file (default: stderr)")
	f.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	f.BoolVar(&g.debug, "debug", false, "log debug messages")
	f.StringVar(&g.wasmCache, "wasm-cache", runtime.DefaultWasmCache, `directory of compiled WebAssembly modules shared by all containers ("" compiles at every start)`)
	f.StringVar(&g.wasmCacheSize, "wasm-cache-size", "2GiB", "bound of the WebAssembly compilation cache; least recently used modules go first")
	f.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, `read cgroupsPath as systemd's "slice:prefix:name" and place the container at the matching cgroupfs path`)
	root.AddCommand(
		newCreateCommand(g), newStartCommand(g), newRunCommand(g), newStateCommand(g),
		newKillCommand(g), newDeleteCommand(g), newListCommand(g), newPsCommand(g),
		newExecCommand(g), newPauseCommand(g), newResumeCommand(g), newUpdateCommand(g),
		newEventsCommand(g), newSpecCommand(), newFeaturesCommand(),
	)
	return root
}

func (g *globals) setupLog() error {
	var w io.Writer = os.Stderr
	if g.logPath != "" {
		f, err := os.OpenFile(g.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("--log %s: %w", g.logPath, err)
		}
		w = f
	}
	opts := &slog.HandlerOptions{Level: slog.LevelWarn}
	if g.debug {
		opts.Level = slog.LevelDebug
	}
	switch g.logFormat {
	case "text":
		g.log = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		g.log = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return fmt.Errorf("--log-format %q: use text or json", g.logFormat)
	}
	return nil
}
