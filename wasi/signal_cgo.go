//go:build cgo && linux

package wasi

/*
#cgo CFLAGS: -Wall -O2
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int restore_fd = -1;
static struct termios restore_termios;
static struct sigaction previous[65];

static void exit_on_signal(int sig)
{
	if (restore_fd >= 0)
		tcsetattr(restore_fd, TCSANOW, &restore_termios);
	_exit(128 + sig);
}

static int save_terminal(int fd)
{
	if (tcgetattr(fd, &restore_termios) != 0)
		return errno;
	restore_fd = fd;
	return 0;
}

static int install_exit_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = exit_on_signal;
	// SA_ONSTACK: Go threads run signal handlers on their alternate stacks.
	sa.sa_flags = SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, &previous[sig]) == 0 ? 0 : errno;
}

static void restore_handler(int sig) { sigaction(sig, &previous[sig], NULL); }
*/
import "C"

import (
	"fmt"
	"syscall"

	"golang.org/x/term"
)

func exitOnSignal(terminal int) (func(), error) {
	if terminal >= 0 && term.IsTerminal(terminal) {
		if rc := C.save_terminal(C.int(terminal)); rc != 0 {
			return nil, fmt.Errorf("save terminal settings: %w", syscall.Errno(rc))
		}
	}
	for i, s := range StopSignals {
		if rc := C.install_exit_handler(C.int(s)); rc != 0 {
			for _, prev := range StopSignals[:i] {
				C.restore_handler(C.int(prev))
			}
			return nil, fmt.Errorf("handle %v: %w", s, syscall.Errno(rc))
		}
	}
	return func() {
		for _, s := range StopSignals {
			C.restore_handler(C.int(s))
		}
	}, nil
}
