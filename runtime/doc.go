// Package runtime runs OCI runtime-spec containers: the lifecycle, the
// state store and the parent side of container setup. cmd/wasmrt is a thin
// CLI over it with runc's command set.
//
// # Lifecycle and state
//
// Every container has a directory under the store root (default
// /run/wasmrt) holding state.json and, between create and start, the exec
// FIFO. Each command takes an exclusive flock on that directory, so
// concurrent commands on one container serialise; creating the directory
// with mkdir is what makes a duplicate id fail. The live status is derived
// rather than trusted: a record whose init pid no longer runs with the
// recorded start time is stopped, one whose FIFO still exists is created,
// one whose freezer is frozen is paused, and otherwise running.
//
// create starts the init, which prepares everything and then blocks opening
// the FIFO for writing; start opens it for reading, which is the created →
// start handshake runc uses: the container's program cannot run before
// start, and start returns once it was released. The state record is
// written before the first process exists and again once the init's pid is
// known, so a create killed at any point leaves enough behind for
// delete --force to kill the process and remove the cgroup and directory.
// run and exec in the foreground make the runtime a child subreaper: the
// container process is reparented to it, waited for (its exit status is
// recorded) and never left a zombie.
//
// # Entering namespaces before Go starts threads
//
// setns(2) into a mount or user namespace and unshare(CLONE_NEWUSER) fail
// in a multi-threaded process, and a Go program has several threads before
// main runs; CLONE_NEWPID only affects children. So the runtime re-executes
// its own binary (/proc/self/exe init) with a socket inherited as a file
// descriptor, and a C constructor linked in by package internal/nsexec runs
// first, while the process is still single-threaded. It reads the namespace
// plan (namespaces to join by path, flags to unshare, time offsets) from
// the socket, joins first (a joined user namespace before the others, all
// paths opened before any setns), unshares a new user namespace and waits
// while the parent writes uid_map/gid_map, unshares the rest, writes
// timens_offsets, and forks. The fork puts the child in a new or joined PID
// namespace; the intermediate reports the child's pid and exits. Only then
// does Go start, already inside the container's namespaces, and the init
// continues with the JSON configuration sent over the same socket. The
// intermediate is in the container's cgroup before the plan is sent, so a
// new cgroup namespace is rooted at the container's cgroup: on a cgroup v2
// host it is born there (clone3 with CLONE_INTO_CGROUP, into a cgroup
// created and limited beforehand), which avoids the kernel's slow
// cgroup.procs migration; elsewhere the parent writes its pid.
// exec uses the same path with every namespace joined from /proc/<init>/ns.
//
// # Setup order (package internal/linux)
//
// Before the init starts, the parent clones the source of every idmapped
// mount (open_tree) and applies its mapping (mount_setattr with a user
// namespace holding it; package internal/idmap), since only the host side
// is privileged over the source's filesystem; the detached clones are
// inherited by the init, which moves them into place in mount order.
//
// In the new mount namespace: propagation, spec mounts, devices and /dev
// symlinks; then the parent runs prestart and createRuntime hooks; the init
// runs createContainer hooks, pivots (or moves with --no-pivot), sets
// sysctls, masked and read-only paths, read-only root, hostname; reports
// ready; waits on the FIFO; runs startContainer hooks; then sets the
// scheduler, I/O priority, bounding set, seccomp, user, capabilities and
// no_new_privs in the order the kernel requires, and hands the program to
// an executor.Executor (package executor): execve for native programs, or
// the WebAssembly executor for modules.
//
// # WebAssembly containers
//
// Which programs are modules is decided from the annotations run.oci.handler
// (wasm, wasm-smart) and module.wasm.image/variant (compat, compat-smart),
// in that order, and otherwise from the program's first bytes ("\0asm");
// package executor documents the precedence, which crun, youki and runwasi
// share. A module goes through every step a native program does, and then,
// instead of execve, runs inside the init itself with wazero (crun's
// handler model). What execve would have done for it the init does itself:
//
//   - The module is compiled while the init still holds its privileges,
//     through the compilation cache shared by every container of the host
//     (Runtime.WasmCache; one entry per module digest, trimmed by size,
//     least recently used first). The cache lies outside the container: the
//     init inherits a descriptor of it and reaches it as /proc/self/fd/N,
//     after checking that /proc is its own procfs and that the path leads to
//     that very directory; the descriptor is closed before the module runs,
//     and the init is non-dumpable from its first instruction, so no other
//     process of the container can borrow it through /proc/PID/fd. A cache
//     writable by anyone but root is not used.
//   - Capabilities, the bounding set and no_new_privs belong to each thread,
//     and a Go process has several: the seccomp filter is installed on all of
//     them (SECCOMP_FILTER_FLAG_TSYNC), and every other thread is brought
//     down to the program's capabilities with no_new_privs set (package
//     threads), checked thread by thread through /proc before the module
//     starts. glibc already applies the user switch to every thread.
//   - Descriptors execve would close (the sync socket, the exec FIFO, the
//     console and seccomp sockets, idmapped trees) are closed.
//   - Stop signals end the process with 128+N from a C signal handler: the Go
//     scheduler cannot preempt compiled module code, so nothing that needs a
//     goroutine could be relied on to stop a module that loops.
//   - linux.resources.memory.limit, less what the init uses once the module
//     is compiled, caps the module's linear memory: growing past it fails
//     memory.grow and the module exits with a message, rather than the
//     kernel killing it in the middle of a write. cpu, cpuset, pids and
//     freezing apply through the cgroup as for any process.
//
// # Failures
//
// Any failure during create kills the init, kills and removes the cgroup,
// runs the poststop hooks and removes the state directory before create
// returns. Hook failures follow the spec: prestart, createRuntime,
// createContainer and startContainer failures fail the container;
// poststart and poststop failures are logged as warnings.
package runtime

import (
	// The namespace bootstrap constructor must be linked into every binary
	// that runs containers.
	_ "github.com/wasmrt/wasmrt/runtime/internal/nsexec"
)
