package linux

import (
	"encoding/json"
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// InitConfig is the first message the runtime sends to a bootstrapped
// process over the sync socket.
type InitConfig struct {
	// Spec is the validated container configuration.
	Spec *specs.Spec `json:"spec"`
	// Rootfs is the absolute host path of the root filesystem.
	Rootfs string `json:"rootfs"`
	// Exec marks a process joining a running container instead of its init.
	Exec bool `json:"exec,omitempty"`
	// Process is the process to run; for init it equals Spec.Process.
	Process *specs.Process `json:"process"`
	// NewKeyring gives the container its own session keyring, named after
	// the container, so it cannot read the caller's keys.
	NewKeyring bool `json:"newKeyring,omitempty"`
	// NoPivot selects MS_MOVE+chroot instead of pivot_root.
	NoPivot bool `json:"noPivot,omitempty"`
	// FifoPath is the exec FIFO the init blocks on until `start`.
	FifoPath string `json:"fifoPath,omitempty"`
	// State is the state handed to createContainer and startContainer hooks.
	State *specs.State `json:"state,omitempty"`
	// ConsoleFD, when non-zero, is the inherited connection to the
	// --console-socket that receives the pty master.
	ConsoleFD int `json:"consoleFd,omitempty"`
	// SeccompFD, when non-zero, is the inherited connection to
	// linux.seccomp.listenerPath that receives the notify fd.
	SeccompFD int `json:"seccompFd,omitempty"`
	// CgroupPaths maps v1 controller (or "" for v2) to the container's
	// host cgroup directory, used for cgroup mounts inside the container.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// MountFDs maps the index of a spec mount to an inherited descriptor
	// of its detached, idmapped source tree, which the init moves into
	// place instead of bind mounting the source.
	MountFDs map[int]int `json:"mountFds,omitempty"`
	// WasmCacheFD, when non-zero, is an inherited descriptor of the
	// WebAssembly compilation cache's directory, used (through
	// /proc/self/fd) only while a module compiles, then closed.
	WasmCacheFD int `json:"wasmCacheFd,omitempty"`
	// WasmCacheSize bounds the cache (0: the default).
	WasmCacheSize int64 `json:"wasmCacheSize,omitempty"`
	// PreserveFDs is the number of extra fds after stdio passed through;
	// they occupy 3..3+PreserveFDs-1 and the runtime's own fds follow.
	PreserveFDs int `json:"preserveFds,omitempty"`
}

// EnvSyncFD names the environment variable carrying the sync socket's fd
// number to the Go side of the init.
const EnvSyncFD = "WASMRT_SYNC_FD"

// Message kinds sent over the sync socket after the InitConfig.
const (
	// MsgCreateRuntime asks the runtime to run prestart and createRuntime
	// hooks; the runtime answers MsgAck.
	MsgCreateRuntime = "createRuntime"
	// MsgAck resumes the init after the runtime-side hooks.
	MsgAck = "ack"
	// MsgReady reports the container is set up and waiting for start.
	MsgReady = "ready"
	// MsgError carries a fatal setup error; the sender exits.
	MsgError = "error"
)

// Message is one sync-socket message after the InitConfig.
type Message struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}

// Send writes v as one JSON document.
func Send(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Receive reads the next message and fails on MsgError.
func Receive(d *json.Decoder) (Message, error) {
	var m Message
	if err := d.Decode(&m); err != nil {
		return m, err
	}
	if m.Type == MsgError {
		return m, fmt.Errorf("%s", m.Error)
	}
	return m, nil
}
