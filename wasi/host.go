package wasi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmrt/wasmrt/emulator/container"
)

// ConvertedSection names the custom section c2w adds to the modules it
// writes; its contents are ConvertedVersion.
const (
	ConvertedSection = "wasmrt.c2w"
	ConvertedVersion = "1"
)

// wasiModule is the import module name of WASI preview 1.
const wasiModule = wasi_snapshot_preview1.ModuleName

// Options configure a Host. The zero value is a usable host without a
// cache, memory cap or interruption.
type Options struct {
	// Cache keeps compiled code between processes; nil compiles every
	// time (in memory only).
	Cache *Cache
	// MemoryLimit caps each module's linear memory in bytes (rounded
	// down to whole 64 KiB pages); 0 leaves the module's own maximum.
	MemoryLimit uint64
	// MemoryLimitSource names where MemoryLimit came from in the message
	// a module that runs into it gets (e.g. "linux.resources.memory.limit").
	MemoryLimitSource string
}

// Host compiles and runs modules. Each module gets a wazero runtime of its
// own, configured from Options and cached under the module's digest.
type Host struct {
	opts Options
}

// New returns a host.
func New(opts Options) *Host { return &Host{opts: opts} }

// Module is a compiled module, checked against what the host provides.
type Module struct {
	// Name identifies the module in messages (usually its path).
	Name string
	// Converted reports a module written by c2w (see ConvertedSection).
	Converted bool
	// MinMemory is the size of its initial linear memory in bytes.
	MinMemory uint64

	host     *Host
	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule
	// wasiFuncs are the WASI preview 1 functions the runtime provides.
	wasiFuncs map[string]bool
	// memoryLimit caps linear memory (0: none); see LimitMemory.
	memoryLimit       uint64
	memoryLimitSource string
}

// ErrNotWasm reports bytes that are not a WebAssembly binary module.
var ErrNotWasm = errors.New("not a WebAssembly binary module (no \\0asm header)")

// IsWasm reports whether b starts like a WebAssembly binary module.
func IsWasm(b []byte) bool { return bytes.HasPrefix(b, []byte("\x00asm")) }

// Compile decodes, validates and compiles wasm (through the cache when the
// host has one) and checks that every import is one the host provides.
func (h *Host) Compile(ctx context.Context, name string, wasm []byte) (*Module, error) {
	if !IsWasm(wasm) {
		if bytes.HasPrefix(bytes.TrimLeft(wasm, " \t\r\n"), []byte("(module")) {
			return nil, fmt.Errorf("module %s: WebAssembly text format (.wat) is not supported; convert it with wat2wasm", name)
		}
		return nil, fmt.Errorf("module %s: %w", name, ErrNotWasm)
	}
	if err := checkSections(wasm); err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	m := &Module{Name: name, host: h}
	if err := m.compileCached(ctx, wasm); err != nil {
		return nil, fmt.Errorf("module %s: %w", name, err)
	}
	compiled := m.compiled
	if err := m.checkImports(); err != nil {
		m.close(ctx)
		return nil, err
	}
	for _, mem := range compiled.ExportedMemories() {
		m.MinMemory = max(m.MinMemory, uint64(mem.Min())*pageSize)
	}
	for _, cs := range compiled.CustomSections() {
		if cs.Name() == ConvertedSection {
			m.Converted = true
		}
	}
	if err := m.LimitMemory(h.opts.MemoryLimit, h.opts.MemoryLimitSource); err != nil {
		m.close(ctx)
		return nil, err
	}
	return m, nil
}

// LimitMemory caps the module's linear memory at limit bytes (rounded down
// to whole pages; 0 leaves the module's own maximum), replacing the host's
// cap; source names where the limit came from in messages. A host that
// learns its limit only once the module is compiled (the runtime subtracts
// its own footprint, compilation included) sets it here.
func (m *Module) LimitMemory(limit uint64, source string) error {
	limit &^= pageSize - 1
	if limit != 0 && m.MinMemory > limit {
		return fmt.Errorf("module %s needs %s of initial memory, more than its limit of %s%s",
			m.Name, formatSize(m.MinMemory), formatSize(limit), sourceSuffix(source))
	}
	m.memoryLimit, m.memoryLimitSource = limit, source
	return nil
}

// compileCached compiles through the host's cache when it has one. A cache
// that cannot be used (read-only, full, trimmed meanwhile) costs a
// compilation, never the run.
func (m *Module) compileCached(ctx context.Context, wasm []byte) error {
	if c := m.host.opts.Cache; c != nil {
		if cc, err := c.forModule(wasm); err == nil {
			if err := m.compile(ctx, wasm, cc); err == nil {
				return nil
			}
			m.close(ctx)
		}
	}
	if err := m.compile(ctx, wasm, nil); err != nil {
		m.close(ctx)
		return err
	}
	return nil
}

// compile sets up the module's runtime (with cc as its compilation cache
// when not nil) and compiles wasm.
func (m *Module) compile(ctx context.Context, wasm []byte, cc wazero.CompilationCache) error {
	// No context checks in compiled loops (WithCloseOnContextDone): they
	// tripled the emulator's start-up, measured; a host stops a module by
	// ending its process (ExitOnSignal).
	rc := wazero.NewRuntimeConfig().WithCustomSections(true)
	if cc != nil {
		rc = rc.WithCompilationCache(cc)
	}
	m.cache = cc
	m.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return fmt.Errorf("instantiate WASI preview 1: %w", err)
	}
	m.wasiFuncs = map[string]bool{}
	if host := m.rt.Module(wasiModule); host != nil {
		for name := range host.ExportedFunctionDefinitions() {
			m.wasiFuncs[name] = true
		}
	}
	var err error
	m.compiled, err = m.rt.CompileModule(ctx, wasm)
	return err
}

// Close releases the compiled code and the module's runtime.
func (m *Module) Close(ctx context.Context) error {
	m.close(ctx)
	return nil
}

func (m *Module) close(ctx context.Context) {
	if m.rt != nil {
		m.rt.Close(ctx)
		m.rt = nil
	}
	if m.cache != nil {
		m.cache.Close(ctx)
		m.cache = nil
	}
}

// checkImports names every import the host cannot satisfy, all at once.
func (m *Module) checkImports() error {
	var missing []string
	for _, f := range m.compiled.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod != wasiModule || !m.wasiFuncs[fn] {
			missing = append(missing, mod+"."+fn)
		}
	}
	for _, mem := range m.compiled.ImportedMemories() {
		mod, n, _ := mem.Import()
		missing = append(missing, mod+"."+n+" (memory)")
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	return fmt.Errorf("module %s imports what this host does not provide: %s (only WASI preview 1, %q, is available)",
		m.Name, strings.Join(missing, ", "), wasiModule)
}

// Entry resolves the function a run calls: "" means the command entry
// _start. Another export must take no parameters.
func (m *Module) Entry(name string) (string, error) {
	exports := m.compiled.ExportedFunctions()
	if name == "" {
		if _, ok := exports["_start"]; !ok {
			return "", fmt.Errorf("module %s exports no _start function: it is a library (a WASI reactor); name the function to call as %s#FUNCTION", m.Name, m.Name)
		}
		return "_start", nil
	}
	def, ok := exports[name]
	if !ok {
		var names []string
		for n := range exports {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", fmt.Errorf("module %s exports no function %q (it exports: %s)", m.Name, name, strings.Join(names, ", "))
	}
	if len(def.ParamTypes()) != 0 {
		return "", fmt.Errorf("module %s: function %q takes %d parameters; only functions without parameters can be run", m.Name, name, len(def.ParamTypes()))
	}
	return name, nil
}

func sourceSuffix(source string) string {
	if source == "" {
		return ""
	}
	return " (" + source + ")"
}

// formatSize renders a byte count the way sizes are given (see
// container.ParseSize).
func formatSize(n uint64) string { return container.FormatSize(int64(n)) }

// exportsFunc reports whether the instantiated module exports fn.
func exportsFunc(mod api.Module, fn string) bool { return mod.ExportedFunction(fn) != nil }

// EngineVersion is the version of wazero this host is built with, as the
// binary's build information records it.
func EngineVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				return d.Version
			}
		}
	}
	return "(unknown)"
}
