package translate

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/wasmrt/wasmrt/convert/pack"
	"github.com/wasmrt/wasmrt/emulator/amd64"
	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// Mode says which code to translate.
type Mode string

// Modes.
const (
	// ModeNone translates nothing: every instruction is interpreted.
	ModeNone Mode = "none"
	// ModeAll translates every executable page of every riscv64 and
	// x86-64 ELF file: the fastest code everywhere, the largest module and the
	// longest compile on the host.
	ModeAll Mode = "all"
	// ModeTrained translates the pages that training runs executed.
	ModeTrained Mode = "trained"
)

// ParseMode parses a --translate value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeNone, ModeAll, ModeTrained:
		return m, nil
	}
	return "", fmt.Errorf("unknown translation mode %q (want %s, %s or %s)", s, ModeNone, ModeAll, ModeTrained)
}

// Page names a page of an image file: its rootfs inode and offset.
type Page struct {
	Ino    uint64
	Offset uint64
}

// Result is the translated code of an image.
type Result struct {
	// Units are the translated pages, unit i at index i.
	Units []riscv64.TranslatedUnit
	// Index is the encoded index (riscv64.EncodeTranslationIndex).
	Index []byte
	// Files and Pages count the ELF files and pages translated.
	Files, Pages int
}

// Link returns module with the result linked in and its index embedded
// next to blobs (pack.Embed), or pack.Embed of blobs alone when nothing
// was translated.
func (r *Result) Link(module []byte, blobs ...pack.Blob) ([]byte, error) {
	if r == nil || len(r.Units) == 0 {
		return pack.Embed(module, blobs...)
	}
	linked, err := pack.LinkTranslated(module, r.Units)
	if err != nil {
		return nil, err
	}
	return pack.Embed(linked, append(blobs, pack.Blob{Name: riscv64.TranslationIndexBlob, Data: r.Index})...)
}

// Image translates the code of img's riscv64 and x86-64 ELF files: the
// pages for which want returns true (nil: all of them); starts (nil: none)
// are where training saw x86-64 blocks start, made block entries.
func Image(img *rootfs.Image, want func(Page) bool, starts Starts) (*Result, error) {
	res := &Result{}
	var pages []riscv64.TranslatedPage
	for i := 1; i <= img.NumInodes(); i++ {
		ino := rootfs.Ino(i)
		st, err := img.Stat(ino)
		if err != nil || !st.IsRegular() || st.Size < 64 {
			continue
		}
		var head [20]byte
		if _, err := img.ReadAt(ino, head[:], 0); err != nil {
			return nil, fmt.Errorf("rootfs inode %d: %w", ino, err)
		}
		// 64-bit ELF for RISC-V or x86-64.
		if !bytes.Equal(head[:4], []byte(elf.ELFMAG)) || head[4] != byte(elf.ELFCLASS64) || head[19] != 0 {
			continue
		}
		translateELF := riscv64.TranslateELF
		switch elf.Machine(head[18]) {
		case elf.EM_RISCV:
		case elf.EM_X86_64:
			fileStarts := starts.ofFile(uint64(ino))
			translateELF = func(image []byte, want func(uint64) bool) ([]riscv64.TranslatedUnit, error) {
				return amd64.TranslateELF(image, want, fileStarts)
			}
		default:
			continue
		}
		content := make([]byte, st.Size)
		if n, err := img.ReadAt(ino, content, 0); err != nil && !(errors.Is(err, io.EOF) && int64(n) == st.Size) {
			return nil, fmt.Errorf("rootfs inode %d: %w", ino, err)
		}
		var filter func(uint64) bool
		if want != nil {
			filter = func(off uint64) bool { return want(Page{uint64(ino), off}) }
		}
		units, err := translateELF(content, filter)
		if err != nil {
			// Not a file the emulator could load either: leave it to
			// the interpreter, which reports what is wrong if it runs.
			continue
		}
		if len(units) == 0 {
			continue
		}
		res.Files++
		for _, u := range units {
			if len(res.Units) >= riscv64.MaxUnits {
				return nil, fmt.Errorf("more than %d pages to translate: train on fewer commands or translate less", riscv64.MaxUnits)
			}
			pages = append(pages, riscv64.TranslatedPage{File: uint64(ino), Offset: u.Offset, Unit: uint32(len(res.Units)), Slots: u.Slots})
			res.Units = append(res.Units, u)
		}
	}
	res.Pages = len(res.Units)
	res.Index = riscv64.EncodeTranslationIndex(pages)
	return res, nil
}

// TrainingRun is one command to run at conversion, with what it got.
type TrainingRun struct {
	// Args replace the image's CMD, like the arguments of `c2w run`.
	Args []string
	// Status is the exit status; Err a failure to run at all.
	Status int
	Err    error
	// Instructions is the number of guest instructions it executed.
	Instructions uint64
	Elapsed      time.Duration
}

// Profile is what training runs executed: the instructions retired in
// each page of an image file.
type Profile map[Page]uint64

// Starts are where training saw blocks start, by page of an image file
// (offsets in the page): reported by the x86-64 CPU, whose translator
// makes them entries.
type Starts map[Page]map[uint16]bool

// ofFile returns the starts in file ino by page offset.
func (s Starts) ofFile(ino uint64) map[uint64][]uint16 {
	out := make(map[uint64][]uint16)
	for pg, offs := range s {
		if pg.Ino != ino {
			continue
		}
		for o := range offs {
			out[pg.Offset] = append(out[pg.Offset], o)
		}
		slices.Sort(out[pg.Offset])
	}
	return out
}

// Train runs each command of runs in the image as `c2w run` would (the
// image config's entrypoint, environment, working directory and user),
// natively, with output discarded and empty stdin, and profiles the code
// it executes. limit bounds each run's guest instructions (0: none).
func Train(img *rootfs.Image, cfg *container.Config, runs []*TrainingRun, limit uint64) (Profile, Starts, error) {
	prof, starts := make(Profile), make(Starts)
	record := func(ino, off, weight uint64) {
		pg := Page{ino, off &^ (riscv64.PageSize - 1)}
		prof[pg] += weight
		if starts[pg] == nil {
			starts[pg] = make(map[uint16]bool)
		}
		starts[pg][uint16(off&(riscv64.PageSize-1))] = true
	}
	abi, err := linux.PlatformABI(cfg.Platform)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range runs {
		proc, err := cfg.Process(container.Overrides{Args: r.Args})
		if err != nil {
			return nil, nil, fmt.Errorf("training command %q: %w", r.Args, err)
		}
		kcfg := linux.Config{
			Image: img, Args: proc.Args, Env: proc.Env, Dir: proc.Dir,
			Stdout: io.Discard, Stderr: io.Discard, InstructionLimit: limit, Arch: abi,
			Profile: record,
		}
		if proc.User != "" {
			u, err := linux.LookupUser(img, proc.User)
			if err != nil {
				return nil, nil, fmt.Errorf("training command %q: %w", r.Args, err)
			}
			u.Apply(&kcfg)
		}
		start := time.Now()
		k, err := linux.New(kcfg)
		if err != nil {
			r.Err = err
			continue
		}
		r.Status, r.Err = k.Run()
		r.Elapsed = time.Since(start)
		r.Instructions = k.Instructions()
	}
	return prof, starts, nil
}

// Hot returns the pages of p that weigh at least fraction of the total:
// the code worth translating (translating a page costs module size and
// host compile time whether or not it runs).
func (p Profile) Hot(fraction float64) func(Page) bool {
	var total uint64
	for _, w := range p {
		total += w
	}
	min := max(uint64(fraction*float64(total)), 1)
	return func(pg Page) bool {
		return p[pg] >= min
	}
}
