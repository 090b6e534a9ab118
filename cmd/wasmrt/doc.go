// Command wasmrt is an OCI runtime (runtime-spec 1.x) with runc's command
// line: create, start, run, state, kill, delete, list, ps, exec, pause,
// resume, update, events, spec and features, with the global --root, --log,
// --log-format, --debug and --systemd-cgroup flags. It is a thin layer over
// package runtime; the hidden "init" argument is how the runtime re-executes
// itself as a container's init.
package main
