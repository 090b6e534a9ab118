package main

import (
	"github.com/spf13/cobra"
)

func newInspectCommand() *cobra.Command {
	var (
		intake intakeFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Show an image's reference, digest, platform, config and layers",
		Example: `  c2w inspect docker.io/library/busybox:latest
  c2w inspect --platform linux/amd64 oci-layout:./busybox:latest
  c2w inspect --json oci-archive:app.tar | jq .layers`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, err := intake.open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer im.Close()
			info := im.Info()
			if asJSON {
				return info.WriteJSON(cmd.OutOrStdout())
			}
			return info.WriteText(cmd.OutOrStdout())
		},
	}
	intake.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
}
