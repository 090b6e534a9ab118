// Package executor is the boundary between the runtime's Linux setup and
// whatever finally runs the container's program.
//
// The runtime prepares a process (namespaces, root filesystem, credentials,
// seccomp) and hands the last step to an Executor. Native replaces the
// prepared process with the program via execve(2); an executor that runs a
// WebAssembly module in-process implements the same interface.
package executor
