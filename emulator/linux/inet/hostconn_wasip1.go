package inet

import (
	"errors"
	"syscall"
	"time"
)

// Write writes all of p, waiting while the host's socket buffer is full.
// wazero (1.12) answers poll_oneoff's fd_write subscriptions with ENOTSUP,
// which Go's runtime takes for an error of the descriptor, so a write the
// host could not take at once failed and the connection broke (a guest
// server sending to a client that reads slowly). Writing the descriptor
// directly and sleeping on EAGAIN needs no write readiness from the host.
func (c hostConn) Write(p []byte) (int, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok || c.writing == nil {
		return c.Conn.Write(p)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	c.writing.Lock()
	defer c.writing.Unlock()
	written := 0
	wait := 20 * time.Microsecond
	for written < len(p) {
		var n int
		var werr error
		if err := rc.Control(func(fd uintptr) { n, werr = syscall.Write(int(fd), p[written:]) }); err != nil {
			return written, err
		}
		if n > 0 {
			written += n
			wait = 20 * time.Microsecond
		}
		switch {
		case errors.Is(werr, syscall.EAGAIN):
			time.Sleep(wait)
			wait = min(2*wait, 2*time.Millisecond)
		case werr != nil:
			return written, werr
		}
	}
	return written, nil
}
