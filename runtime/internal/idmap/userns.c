#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

// wasmrt_spawn_userns starts a child process in a new user namespace that
// does nothing but wait to be killed, and returns its pid (or -1 with errno
// set). The raw clone system call is used rather than fork(3) so that no
// atfork handlers run in the child, which only ever calls pause(2).
int wasmrt_spawn_userns(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (pid != 0)
		return (int)pid;
	for (;;)
		pause();
}
