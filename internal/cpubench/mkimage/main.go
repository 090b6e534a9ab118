// Command mkimage writes a one-layer OCI image layout (tag "latest") of
// the given files under /bin for one platform, so the CPU benchmarks can
// convert the same static programs for each guest architecture:
//
//	mkimage OUTDIR ARCH FILE...
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/wasmrt/wasmrt/internal/ctrtest"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: mkimage OUTDIR ARCH FILE...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out, arch string, files []string) error {
	spec := ctrtest.Image{OS: "linux", Arch: arch, Files: map[string]ctrtest.File{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		spec.Files["bin/"+filepath.Base(f)] = ctrtest.File{Data: data, Mode: 0o755}
	}
	img, err := spec.Build()
	if err != nil {
		return err
	}
	lp, err := layout.Write(out, empty.Index)
	if err != nil {
		return err
	}
	return lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "latest"}))
}
