// Package linux is the container side of the runtime: the code that runs as
// the container's init (or an exec'd process) after the namespace bootstrap
// in package nsexec has placed it in its final namespaces.
//
// It owns everything that must happen inside the container's namespaces:
// the root filesystem (mounts, propagation, devices, pivot_root, masked and
// read-only paths), the process environment (hostname, sysctl, rlimits,
// user and groups, capabilities, no_new_privs, seccomp, scheduler, I/O
// priority, personality, console) and the created→start handshake on the
// exec FIFO. It also owns the capability and option tables shared with the
// parent for validation, and the messages exchanged with the parent over
// the sync socket (protocol.go). It never touches the runtime's state
// directory or cgroups; those belong to package runtime.
package linux
