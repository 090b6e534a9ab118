package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/runtime"
)

func newSpecCommand() *cobra.Command {
	var bundle string
	var rootless bool
	cmd := &cobra.Command{
		Use:     "spec [flags]",
		Short:   "Write a starter config.json into the bundle directory",
		Example: "  mkdir -p b/rootfs && wasmrt spec --bundle b\n  wasmrt spec --rootless",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("%s already exists; remove it first", path)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			data, err := json.MarshalIndent(runtime.DefaultSpec(rootless), "", "\t")
			if err != nil {
				return err
			}
			return os.WriteFile(path, append(data, '\n'), 0o666)
		},
	}
	cmd.Flags().StringVarP(&bundle, "bundle", "b", ".", "bundle directory to write config.json into")
	cmd.Flags().BoolVar(&rootless, "rootless", false, "generate a configuration for a rootless container (user namespace)")
	return cmd
}

func newFeaturesCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "features",
		Short:   "Print the features this runtime implements as JSON (runtime-spec features document)",
		Example: "  wasmrt features",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return printJSON(runtime.Features())
		},
	}
}
