// Package nsexec enters a container's namespaces before the Go runtime starts.
//
// Importing the package (for its side effect) links a C constructor into the
// binary. It does nothing unless the process was started with
// WASMRT_NSEXEC_FD set to an inherited socket; then it reads the namespace
// plan from that socket, joins namespaces by path with setns(2), unshares new
// ones (pausing for the parent to write uid/gid maps when a user namespace is
// created), writes time namespace offsets, and forks so that PID namespaces
// apply. The intermediate process reports the child's pid on the socket and
// exits; the child continues into Go's main. The wire format is documented in
// nsexec.c and produced by package runtime.
package nsexec
