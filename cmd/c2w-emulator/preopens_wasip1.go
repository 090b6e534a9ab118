package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path"
	"syscall"
	"unsafe"

	"github.com/wasmrt/wasmrt/emulator/linux"
)

// The WASI calls that list preopened directories. The Go runtime makes the
// same calls at start-up to resolve absolute paths, but does not export the
// names, so the module asks again.

//go:wasmimport wasi_snapshot_preview1 fd_prestat_get
func fdPrestatGet(fd int32, prestat unsafe.Pointer) int32

//go:wasmimport wasi_snapshot_preview1 fd_prestat_dir_name
func fdPrestatDirName(fd int32, name unsafe.Pointer, n int32) int32

//go:wasmimport wasi_snapshot_preview1 fd_fdstat_get
func fdFdstatGet(fd int32, stat unsafe.Pointer) int32

// filetypeSocketStream is WASI's filetype of a stream socket.
const filetypeSocketStream = 6

// preopenListeners returns the listening sockets the host preopened
// (wazero's --listen / experimental sock config, wasmtime's --tcplisten),
// in descriptor order: they follow the preopened directories.
func preopenListeners() ([]net.Listener, error) {
	var out []net.Listener
	for fd := int32(3); fd < 3+maxPreopens; fd++ {
		var st [24]byte // u8 filetype, u16 flags, u64 rights, u64 inheriting
		if fdFdstatGet(fd, unsafe.Pointer(&st[0])) != 0 {
			break
		}
		if st[0] != filetypeSocketStream {
			continue
		}
		// Non-blocking, so that accepting waits in the runtime's poller
		// instead of stopping the whole module in sock_accept.
		if err := syscall.SetNonblock(int(fd), true); err != nil {
			return nil, fmt.Errorf("preopened socket %d: %w", fd, err)
		}
		f := os.NewFile(uintptr(fd), fmt.Sprintf("preopened socket %d", fd))
		l, err := net.FileListener(f)
		if err != nil {
			return nil, fmt.Errorf("preopened socket %d: %w", fd, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// maxPreopens bounds the scan; a host that answers forever cannot stall
// start-up.
const maxPreopens = 256

// preopenMounts turns the host's preopened directories into guest mounts at
// the same paths: wazero's -mount /h:/data, wasmtime's --dir /h::/data and
// Node's preopens {'/data': '/h'} all show /h at /data. Opening the preopen
// name through package os reaches the host directory, because Go's wasip1
// runtime resolves absolute paths against the preopens. Names that are not
// absolute, or are "/" (which would hide the image), are skipped.
func preopenMounts() []linux.Mount {
	var mounts []linux.Mount
	for fd := int32(3); fd < 3+maxPreopens; fd++ {
		var st [8]byte // u8 tag, 3 bytes padding, u32 name length
		if fdPrestatGet(fd, unsafe.Pointer(&st[0])) != 0 {
			break
		}
		n := binary.LittleEndian.Uint32(st[4:])
		if st[0] != 0 || n == 0 || n > 4096 {
			continue
		}
		buf := make([]byte, n)
		if fdPrestatDirName(fd, unsafe.Pointer(&buf[0]), int32(n)) != 0 {
			continue
		}
		// Some hosts count a trailing NUL in the length.
		for len(buf) > 0 && buf[len(buf)-1] == 0 {
			buf = buf[:len(buf)-1]
		}
		name := path.Clean(string(buf))
		if !path.IsAbs(name) || name == "/" {
			continue
		}
		mounts = append(mounts, linux.Mount{Host: name, Guest: name})
	}
	return mounts
}
