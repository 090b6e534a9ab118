// Command c2w-emulator is the emulated riscv64 Linux machine that every
// module c2w produces is built around.
//
// Built with GOOS=wasip1 GOARCH=wasm it is the module itself: c2w embeds
// this program's wasm binary (cmd/c2w) and appends the container's rootfs
// image and image config as the embedded blobs "rootfs" and "config"
// (convert/pack, emulator/embed). When both blobs are present the program
// runs the container from them:
//
//	OUT.wasm [FLAGS] [COMMAND [ARG...]]
//
// COMMAND replaces the image's CMD and keeps its ENTRYPOINT, as with
// `docker run`; the flags are listed by --help. The host's WASI preopened
// directories appear in the guest at their preopen names, read-write.
//
// Without blobs (a native build, or the bare wasm binary) it is the
// development and benchmarking tool that runs a program from a rootfs
// image file:
//
//	c2w-emulator [flags] ROOTFS.img PROGRAM [ARG...]
//
// Set C2W_TRACE=syscalls to log every system call to stderr. The program
// uses only the standard library and has no host threads or processes.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/wasmrt/wasmrt/emulator/container"
	"github.com/wasmrt/wasmrt/emulator/embed"
	"github.com/wasmrt/wasmrt/emulator/riscv64"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

func main() {
	// A module whose rootfs was detached (c2w browser's lazily fetched
	// sites) has the config only and reads the rootfs from --rootfs-file.
	img, _ := embeddedRootfs()
	config, haveConfig := embed.Blob(container.ConfigBlob)
	if haveConfig {
		os.Exit(moduleMain(moduleEnv{
			rootfs: img, config: config, translations: embeddedTranslations(),
			args: os.Args[1:], hostEnv: os.Environ(), mounts: preopenMounts(), listeners: preopenListeners,
			hostFile: openHostFile, stdin: hostStdin(), stdout: os.Stdout, stderr: os.Stderr,
		}))
	}
	os.Exit(nativeMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// embeddedTranslations returns the index of the translated pages the
// converter embedded (docs/translation.md), or nil.
func embeddedTranslations() []byte {
	b, _ := embed.Blob(riscv64.TranslationIndexBlob)
	return b
}

// embeddedRootfs opens the rootfs image: read on demand from the module's
// passive blob segment (what c2w writes), or in place when it lies in the
// initial memory.
func embeddedRootfs() (func() (*rootfs.Image, error), bool) {
	if seg, ok := embed.OpenSegment(container.RootfsBlob); ok {
		return func() (*rootfs.Image, error) { return rootfs.OpenSource(seg) }, true
	}
	if b, ok := embed.Blob(container.RootfsBlob); ok {
		return func() (*rootfs.Image, error) { return rootfs.Open(b) }, true
	}
	return nil, false
}

// openHostFile opens the host's descriptor fd for reading, failing when
// the host did not open it.
func openHostFile(fd int) (io.Reader, error) {
	f := hostInput(fd, "fd"+strconv.Itoa(fd))
	if _, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("the host did not open descriptor %d: %v", fd, err)
	}
	return f, nil
}
