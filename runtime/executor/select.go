package executor

import (
	"fmt"
	"path"
	"strings"

	"github.com/wasmrt/wasmrt/wasi"
)

// Annotations this package reads (see the package documentation).
const (
	// AnnotationHandler is crun's handler annotation.
	AnnotationHandler = "run.oci.handler"
	// AnnotationVariant is the Wasm image variant annotation youki,
	// crun and runwasi read.
	AnnotationVariant = "module.wasm.image/variant"
	// AnnotationPreopens lists the guest paths a module gets instead of
	// the whole root: comma-separated, each optionally ending in ":ro".
	AnnotationPreopens = "run.wasmrt.preopens"
)

// Kind says which executor runs a program.
type Kind int

const (
	KindNative Kind = iota
	KindWasm
)

func (k Kind) String() string {
	if k == KindWasm {
		return "wasm"
	}
	return "native"
}

// HandlerValues and VariantValues are the annotation values Select knows,
// for `features`.
var (
	HandlerValues = []string{"wasm", "wasm-smart"}
	VariantValues = []string{"compat", "compat-smart"}
)

// HasWasmExtension reports whether a program's name says it is a module.
func HasWasmExtension(program string) bool {
	file, _ := SplitEntry(program)
	ext := path.Ext(file)
	return ext == ".wasm" || ext == ".wat"
}

// SplitEntry splits PATH#FUNCTION into the module's path and the export to
// call ("" when none is named, meaning _start).
func SplitEntry(program string) (file, entry string) {
	file, entry, _ = strings.Cut(program, "#")
	return file, entry
}

// Select decides how the program named by program (process.args[0]) runs,
// from the annotations and, when they say nothing, from header, the first
// bytes of the program file (nil when it could not be read).
func Select(annotations map[string]string, program string, header []byte) (Kind, error) {
	switch h := annotations[AnnotationHandler]; h {
	case "":
	case "wasm":
		return KindWasm, nil
	case "wasm-smart":
		return bySuffix(program), nil
	default:
		return KindNative, fmt.Errorf("annotation %s: unknown handler %q (this runtime knows %s)",
			AnnotationHandler, h, strings.Join(HandlerValues, ", "))
	}
	switch annotations[AnnotationVariant] {
	case "compat":
		return KindWasm, nil
	case "compat-smart":
		return bySuffix(program), nil
	}
	if wasi.IsWasm(header) {
		return KindWasm, nil
	}
	return KindNative, nil
}

func bySuffix(program string) Kind {
	if HasWasmExtension(program) {
		return KindWasm
	}
	return KindNative
}
