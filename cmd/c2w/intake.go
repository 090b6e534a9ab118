package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/emulator/container"
)

// intakeFlags are the flags every command that reads an image shares.
type intakeFlags struct {
	platform string
	insecure bool
	quiet    bool
}

func (f *intakeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", "", "image platform os/arch[/variant] to select from a multi-platform index (default: the first of "+defaultPlatforms()+" the image has)")
	fl.BoolVar(&f.insecure, "insecure", false, "speak plain HTTP to the registry (loopback registries always get plain HTTP)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
}

// defaultPlatforms lists image.DefaultPlatforms for help texts.
func defaultPlatforms() string {
	s := make([]string, len(image.DefaultPlatforms))
	for i, p := range image.DefaultPlatforms {
		s[i] = image.FormatPlatform(p)
	}
	return strings.Join(s, ", ")
}

// open parses and resolves the image argument.
func (f *intakeFlags) open(ctx context.Context, arg string) (*image.Image, error) {
	var p v1.Platform
	if f.platform != "" {
		var err error
		if p, err = image.ParsePlatform(f.platform); err != nil {
			return nil, usageError{fmt.Errorf("--platform: %w", err)}
		}
	}
	src, err := image.ParseSource(arg, f.insecure)
	if err != nil {
		return nil, usageError{err}
	}
	return image.Open(ctx, src, image.Options{Platform: p, Insecure: f.insecure, UserAgent: "c2w/" + version()})
}

// showProgress reports whether progress bars should be drawn on w: only on
// a terminal, and not with --quiet.
func (f *intakeFlags) showProgress(w io.Writer) bool {
	if f.quiet {
		return false
	}
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// parseSize parses a byte count such as 512MiB, 8G or 1000000, with the
// spelling converted modules use for --memory.
func parseSize(s string) (int64, error) { return container.ParseSize(s) }
