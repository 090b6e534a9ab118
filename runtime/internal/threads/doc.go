// Package threads makes every thread of the process at most as privileged
// as a target, for containers whose program runs inside the runtime's own
// process (the WebAssembly executor) instead of replacing it with execve.
//
// Capabilities, the capability bounding set and no_new_privs belong to each
// thread, and a Go process has several threads before the container's
// program starts. The thread that runs the program is set up as for any
// container; the others keep what the init had (all capabilities of a root
// init) unless someone makes them drop it. glibc already broadcasts
// setresuid/setresgid/setgroups to every thread and the seccomp filter is
// installed with SECCOMP_FILTER_FLAG_TSYNC; this package does the rest the
// way glibc does its broadcast: a real-time signal is sent to every other
// thread at once (tgkill), and a handler running on each thread drops its
// bounding set to the target, intersects its permitted, effective and
// inheritable sets with the target's, clears its ambient set and sets
// no_new_privs, and answers. Threads are listed from /proc/self/task;
// listing repeats until a pass finds no thread that has not answered, so
// threads created meanwhile are done too (see Restrict for why that is
// enough). The tests read every thread's status back. A thread that no longer holds
// CAP_SETPCAP (a non-root user's threads lose every capability on setuid)
// cannot drop its bounding set; with no_new_privs set and nothing
// permitted, the bounding set can no longer grant it anything.
package threads
