package main

import (
	"fmt"
	"time"

	"github.com/google/shlex"
	"github.com/spf13/cobra"

	"github.com/wasmrt/wasmrt/convert/image"
	"github.com/wasmrt/wasmrt/convert/translate"
	"github.com/wasmrt/wasmrt/emulator/container"
	emrootfs "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// translateFlags choose the guest code c2w translates to WebAssembly
// (docs/translation.md).
type translateFlags struct {
	mode       string
	train      []string
	trainLimit uint64
	hot        float64
}

func (f *translateFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.mode, "translate", "", `guest code to translate to WebAssembly at conversion: "none", "all" (every executable page of every program and library: fastest, largest module, longest first compile) or "trained" (what the --train commands executed); default "trained" with --train, else "none"`)
	cmd.Flags().StringArrayVar(&f.train, "train", nil, `a command to run in the image at conversion (quoted like a shell command line; it replaces the image's CMD as arguments to "c2w run" do); the code it executes is translated. Repeatable`)
	cmd.Flags().Float64Var(&f.hot, "train-hot", 0.0001, "translate only pages where training spent at least this fraction of its instructions (0: every page it executed)")
	cmd.Flags().Uint64Var(&f.trainLimit, "train-limit", 20_000_000_000, "stop each training command after this many guest instructions (its code so far still counts)")
}

// check validates the flags, before any work: mistakes are usage errors.
func (f *translateFlags) check() (translate.Mode, []*translate.TrainingRun, error) {
	modeName := f.mode
	if modeName == "" {
		modeName = string(translate.ModeNone)
		if len(f.train) > 0 {
			modeName = string(translate.ModeTrained)
		}
	}
	mode, err := translate.ParseMode(modeName)
	if err != nil {
		return "", nil, usageError{fmt.Errorf("--translate: %w", err)}
	}
	switch {
	case mode != translate.ModeTrained && len(f.train) > 0:
		return "", nil, usageError{fmt.Errorf("--train needs --translate=trained (or no --translate)")}
	case mode == translate.ModeTrained && len(f.train) == 0:
		return "", nil, usageError{fmt.Errorf("--translate=trained needs at least one --train command")}
	case f.hot < 0 || f.hot > 1:
		return "", nil, usageError{fmt.Errorf("--train-hot %v: want a fraction between 0 and 1", f.hot)}
	}
	var runs []*translate.TrainingRun
	for _, t := range f.train {
		args, err := shlex.Split(t)
		if err != nil {
			return "", nil, usageError{fmt.Errorf("--train %q: %w", t, err)}
		}
		if len(args) == 0 {
			return "", nil, usageError{fmt.Errorf("--train %q: no command", t)}
		}
		runs = append(runs, &translate.TrainingRun{Args: args})
	}
	return mode, runs, nil
}

// translate translates the code of the packed rootfs fsImage in mode,
// training on runs (what check returned); nil when nothing is to be
// translated.
func (f *translateFlags) translate(cmd *cobra.Command, mode translate.Mode, runs []*translate.TrainingRun, fsImage []byte, cfg *container.Config, quiet bool) (*translate.Result, error) {
	if mode == translate.ModeNone {
		return nil, nil
	}
	if cfg.Platform != "linux/riscv64" && cfg.Platform != "linux/amd64" {
		return nil, usageError{fmt.Errorf("--translate and --train translate riscv64 and x86-64 code only; image %s is %s (convert it without them)", cfg.Image, cfg.Platform)}
	}
	img, err := emrootfs.Open(fsImage)
	if err != nil {
		return nil, fmt.Errorf("reading back the rootfs image: %w", err)
	}
	start := time.Now()
	var want func(translate.Page) bool
	var starts translate.Starts
	if mode == translate.ModeTrained {
		prof, trainStarts, err := translate.Train(img, cfg, runs, f.trainLimit)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			switch {
			case r.Err != nil:
				fmt.Fprintf(cmd.ErrOrStderr(), "c2w: training %q: %v (the code it executed is still translated)\n", r.Args, r.Err)
			case r.Status != 0 && !quiet:
				fmt.Fprintf(cmd.ErrOrStderr(), "c2w: training %q exited with status %d\n", r.Args, r.Status)
			}
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "c2w: training %q: %d instructions in %.1fs\n", r.Args, r.Instructions, r.Elapsed.Seconds())
			}
		}
		want, starts = prof.Hot(f.hot), trainStarts
	}
	res, err := translate.Image(img, want, starts)
	if err != nil {
		return nil, err
	}
	if !quiet {
		size := 0
		for _, u := range res.Units {
			size += len(u.Body)
		}
		files := "ELF files"
		if res.Files == 1 {
			files = "ELF file"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "c2w: translated %d pages of %d %s to %s of WebAssembly in %.1fs\n",
			res.Pages, res.Files, files, image.HumanSize(int64(size)), time.Since(start).Seconds())
	}
	return res, nil
}
