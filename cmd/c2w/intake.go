package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wasmrt/wasmrt/convert/image"
)

// intakeFlags are the flags every command that reads an image shares.
type intakeFlags struct {
	platform string
	insecure bool
	quiet    bool
}

func (f *intakeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", image.FormatPlatform(image.DefaultPlatform), "image platform os/arch[/variant] to select from a multi-platform index")
	fl.BoolVar(&f.insecure, "insecure", false, "speak plain HTTP to the registry (loopback registries always get plain HTTP)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
}

// open parses and resolves the image argument.
func (f *intakeFlags) open(ctx context.Context, arg string) (*image.Image, error) {
	p, err := image.ParsePlatform(f.platform)
	if err != nil {
		return nil, usageError{fmt.Errorf("--platform: %w", err)}
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

// parseSize parses a byte count such as 512MiB, 8G or 1000000.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
		{"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional unit (e.g. 512MiB, 8GiB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}
