// Package shim is containerd's runtime v2 shim for wasmrt: the
// containerd-shim-wasmrt-v1 binary, which containerd starts per container
// or per pod (runtime io.containerd.wasmrt.v1) and drives over ttrpc with
// the task service containerd.task.v2.Task. It runs native, WebAssembly and
// c2w-converted containers alike: which one a container is, the runtime
// decides (see package runtime/executor).
//
// # Bootstrap
//
// containerd runs the binary with -namespace, -address, -publish-binary,
// -id (and -debug) and an action, in the bundle directory, with
// TTRPC_ADDRESS set:
//
//   - start: find or spawn the shim that serves this container and print
//     its socket address. Containers of one pod (annotation
//     io.kubernetes.cri.sandbox-id) share one shim: the socket is named
//     after the containerd address, the namespace and the sandbox id, and
//     a live socket of that name is reused. Otherwise the daemon is spawned
//     (the same binary without an action, the listening socket as fd 3),
//     and the address is also written to the bundle's "address" file,
//     where a restarted containerd finds it.
//   - delete (-bundle): clean up after a shim that died: force-delete the
//     container, unmount its root filesystem, and print a DeleteResponse.
//   - no action: the daemon; it logs to the bundle's "log" FIFO.
//
// # Why the runtime runs in-process
//
// runc's shim executes the runc binary for every operation. This shim
// calls package runtime directly: an operation is a function call instead
// of a process start and a JSON state round trip, and one shim process per
// pod holds all of its containers, which is what keeps the memory per
// container small. Container inits are re-executions of this binary
// ("init" as the first argument dispatches to runtime.RunInit), exactly as
// with the wasmrt binary. The shim is the child subreaper of every
// container process, so it learns each exit from wait4 itself; the reaper
// and the runtime's own waits for the processes it starts are serialised
// so neither steals the other's status.
//
// # Processes
//
// Each container has its init process and exec processes, each moving
// created → running → stopped (the container's init may also be paused);
// an operation a state does not allow fails with errdefs'
// FailedPrecondition, converted to a ttrpc status at the service edge.
// Standard streams are containerd's FIFOs: output FIFOs are given to the
// process directly; stdin is copied through a pipe the shim can close
// (CloseIO); with a terminal the pty master comes back over a console
// socket and is copied to and from the FIFOs, and ResizePty sets its size.
//
// # Wasm OCI artifacts
//
// An image published as a Wasm artifact (config
// application/vnd.wasm.config.v0+json, or an image config for wasm with an
// application/wasm layer) has no file system: containerd 2's CRI plugin
// gives its containers an empty snapshot. For a container whose root file
// system is empty, Create asks containerd over GRPC (-address, the
// task's namespace) for the container's image, and when it is such an
// artifact copies the module layer from the content store into a
// digest-named file of a host-wide store (checked while copied; written to
// a temporary file and renamed), then rewrites the bundle's config.json:
// the file is bind-mounted read-only at /TITLE and is the program, with
// the container's arguments after it (see artifactArgs). Containers with
// files never cost a GRPC call.
//
// # Events
//
// TaskCreate, TaskStart, TaskExit, TaskDelete, TaskExecAdded,
// TaskExecStarted, TaskPaused, TaskResumed and TaskOOM go to containerd's
// ttrpc events service at TTRPC_ADDRESS, in order, from one goroutine.
package shim
