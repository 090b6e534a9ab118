// Package inet is the emulated machine's IP network: gVisor's netstack (a
// user-space TCP/IP stack, used as a library) with the interfaces the
// guest sees, and the conversions between Linux's view of sockets and
// netstack's: struct sockaddr_in and sockaddr_in6, and netstack's errors
// as errno values.
//
// The stack has a loopback interface (127.0.0.1/8 and ::1): guest programs
// talk to each other over TCP and UDP exactly as on Linux, and nothing of
// the guest's traffic leaves the machine. The system-call layer
// (emulator/linux, sys_inet.go) makes sockets of its endpoints.
//
// Netstack works with goroutines (segment processing, timers). The
// machine runs guest code on one goroutine, which under GOOS=wasip1 is
// the only one running until it yields; the kernel yields once per
// scheduling round while a stack exists, and waits on Stack.Wake when
// every task waits, which endpoints signal when their readiness changes.
package inet
