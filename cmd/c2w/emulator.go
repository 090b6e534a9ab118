package main

import (
	"embed"
	"errors"
	"io/fs"
)

// The emulator module is embedded from a directory rather than a single
// file so that go:embed compiles in a fresh clone, where only the
// committed module/README.md exists: `go build`, `go vet ./...` and
// `go test ./...` all work before `make` has built the wasm. A missing
// module is then reported only when a conversion needs it.
//
//go:embed module
var moduleDir embed.FS

// emulatorModulePath is the embedded emulator's path in moduleDir.
const emulatorModulePath = "module/c2w-emulator.wasm"

// errNoEmulator explains a c2w built without the emulator module.
var errNoEmulator = errors.New("this c2w was built without the emulator module (cmd/c2w/module/c2w-emulator.wasm): build c2w with `make`, which compiles cmd/c2w-emulator for GOOS=wasip1 first")

// emulatorModule returns the wasip1 emulator module that conversions pack
// the image into. Tests replace it with a freshly built one.
var emulatorModule = func() ([]byte, error) {
	b, err := moduleDir.ReadFile(emulatorModulePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoEmulator
	}
	return b, err
}
