// Package executor is the boundary between the runtime's Linux setup and
// whatever finally runs the container's program.
//
// The runtime prepares a process (namespaces, root filesystem, credentials,
// seccomp) and hands the last step to an Executor. Native replaces the
// prepared process with the program via execve(2). Wasm runs a WebAssembly
// module inside the prepared process with the project's WebAssembly host
// (package wasi), as crun's Wasm handlers do: the module sees exactly what
// the container's process would see, under the same limits.
//
// # Which executor runs a program
//
// Select decides, compatibly with crun, youki and runwasi, in this order:
//
//  1. Annotation run.oci.handler: "wasm" runs the program as a module;
//     "wasm-smart" does so only when process.args[0] ends in .wasm or .wat
//     (so a pod's native sidecars stay native). Other values are refused.
//  2. Annotation module.wasm.image/variant (set on images built for Wasm
//     runtimes): "compat" and "compat-smart", with the same meanings. Other
//     values are ignored.
//  3. Otherwise the content: a program whose first bytes are "\0asm" is a
//     module; ELF files and #! scripts, and anything else, are native.
//
// process.args[0] may name an export other than _start as PATH#FUNCTION.
//
// # What a module sees
//
// args are process.args, env process.env, the working directory
// process.cwd (as PWD), stdio the process's own (pipes, FIFOs or the
// console's terminal). Its preopened directories are the container's root
// "/" (runwasi's behaviour), or the guest paths listed in the annotation
// run.wasmrt.preopens ("/data,/etc/app:ro"). A module converted by c2w
// (a Linux machine with the image inside) instead gets the container's
// mounts at their destinations, a guest memory budget from the memory
// limit, and the container's environment, working directory, hostname and
// user as its own flags; process.args after the module are the guest's
// command.
//
// Its linear memory is capped by linux.resources.memory.limit less what
// the host process itself already uses, so a module that outgrows it fails
// memory.grow and exits with a message instead of being OOM-killed in the
// middle of a write. It ends with 128+N on a stop signal N, 134 on a trap.
package executor
