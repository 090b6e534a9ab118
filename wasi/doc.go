// Package wasi is the project's one WebAssembly host: it runs WASI preview 1
// modules under wazero for `c2w run`, for the runtime's Wasm executor
// (runtime/executor) and for the containerd shim alike.
//
// It owns what every host needs and none should repeat: the wazero runtime
// configuration (no context checks compiled into loops: a module is stopped
// by ending its process), the compilation cache
// (one wazero cache directory per module digest, touched on every use and
// trimmed least-recently-used first by size; see Cache), checking a module
// before it runs (the imports it needs that this host lacks are named, a
// missing entry point is reported as such), argv/env/working directory,
// standard streams and terminals, preopened directories, a cap on linear
// memory that reports when a module runs into it, exit codes, and ending
// the process when a stop signal arrives (from a C handler where cgo is
// available: see ExitOnSignal).
//
// # Exit codes
//
// proc_exit(N) is N. A module that returns from its entry function exits 0.
// A trap (unreachable, out-of-bounds access, stack exhaustion, ...) is
// reported on the module's stderr with the trap's name and exits 134, the
// status of a native program killed by SIGABRT, as crun and runwasi map it.
//
// # Converted containers
//
// A module written by `c2w IMAGE OUT.wasm` carries a custom section named
// ConvertedSection. Such a module is the emulator with an image inside: its
// own flags (--memory, --hostname, --workdir, --env-from-host) come before
// the guest's command, and directories preopened for it appear inside the
// guest Linux at their guest paths. Converted.Args builds that command line,
// and Module.GuestMemoryFor sizes the guest under a memory cap.
//
// # Why wazero
//
// wazero is pure Go (no cgo, no shared library to ship), compiles ahead of
// execution with a persistent cache, and exposes exactly the knobs this
// package needs (memory limit, allocator, custom sections, preopens).
package wasi
