package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/fifo"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime"
)

// processIO connects a process's standard streams to containerd's FIFOs.
type processIO struct {
	// child are the ends the process inherits; the shim closes its copies
	// once the process has started.
	child runtime.Stdio
	// stdinW feeds the process's stdin from the stdin FIFO; CloseIO closes
	// it.
	stdinW *os.File
	// closers are the FIFO ends the shim holds while copying.
	closers []io.Closer
	// consoleSocket receives the pty master of a process with a terminal.
	consoleSocket string
	listener      *net.UnixListener
	master        console.Console
	// copying counts the copies from the process to the output FIFOs.
	copying sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// openFIFO opens a containerd FIFO without blocking: O_RDWR never waits
// for the other end (containerd holds it open already, or will).
func openFIFO(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("stdio FIFO %s: %w", path, err)
	}
	return f, nil
}

// consoleDir holds the console sockets: root's alone, so no other process
// can connect first and hand over a terminal of its own.
const consoleDir = stateRoot + "/console"

var consoleSeq atomic.Uint64

// newProcessIO opens the FIFOs of p. For a terminal it listens on a
// console socket instead, for the pty master.
func newProcessIO(p stdioPaths) (_ *processIO, err error) {
	pio := &processIO{}
	defer func() {
		if err != nil {
			pio.close()
		}
	}()
	if p.terminal {
		// Not in the bundle: its path may be longer than a socket's may.
		if err := os.MkdirAll(consoleDir, 0o700); err != nil {
			return nil, err
		}
		pio.consoleSocket = filepath.Join(consoleDir, fmt.Sprintf("%d-%d", os.Getpid(), consoleSeq.Add(1)))
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: pio.consoleSocket, Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		pio.listener = l
		return pio, nil
	}
	if p.stdin != "" {
		// containerd's fifo package: reads wait for the writer to
		// connect and end when it closes its end.
		fifo, err := fifo.OpenFifo(context.Background(), p.stdin, unix.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil, fmt.Errorf("stdin FIFO %s: %w", p.stdin, err)
		}
		pio.closers = append(pio.closers, fifo)
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		pio.child.Stdin, pio.stdinW = r, w
		go func() {
			_, _ = io.Copy(w, fifo)
			pio.closeStdin()
		}()
	} else if pio.child.Stdin, err = os.Open(os.DevNull); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		path string
		dst  **os.File
	}{{p.stdout, &pio.child.Stdout}, {p.stderr, &pio.child.Stderr}} {
		if s.path == "" {
			if *s.dst, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0); err != nil {
				return nil, err
			}
			continue
		}
		// The process writes to the FIFO itself: no copy in between.
		if *s.dst, err = openFIFO(s.path); err != nil {
			return nil, err
		}
	}
	return pio, nil
}

// started runs once the runtime has started the process: it closes the
// shim's copies of the process's ends and, for a terminal, takes the pty
// master from the console socket and copies it to and from the FIFOs.
func (pio *processIO) started(p stdioPaths) error {
	for _, f := range []*os.File{pio.child.Stdin, pio.child.Stdout, pio.child.Stderr} {
		if f != nil {
			f.Close()
		}
	}
	if pio.listener == nil {
		return nil
	}
	defer pio.listener.Close()
	defer os.Remove(pio.consoleSocket)
	_ = pio.listener.SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := pio.listener.AcceptUnix()
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	defer conn.Close()
	master, err := receiveFD(conn)
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	c, err := console.ConsoleFromFile(master)
	if err != nil {
		master.Close()
		return err
	}
	pio.master = c
	if p.stdin != "" {
		in, err := openFIFO(p.stdin)
		if err != nil {
			return err
		}
		pio.closers = append(pio.closers, in)
		go func() { _, _ = io.Copy(c, in) }()
	}
	if p.stdout != "" {
		out, err := openFIFO(p.stdout)
		if err != nil {
			return err
		}
		pio.closers = append(pio.closers, out)
		pio.copying.Add(1)
		go func() {
			defer pio.copying.Done()
			// EIO once the last slave closes: the end of the output.
			_, _ = io.Copy(out, c)
		}()
	}
	return nil
}

// receiveFD reads one descriptor sent with SCM_RIGHTS.
func receiveFD(conn *net.UnixConn) (*os.File, error) {
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("no descriptor received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("no descriptor received")
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// resize sets the terminal's window size.
func (pio *processIO) resize(width, height uint32) error {
	if pio.master == nil {
		return errors.New("the process has no terminal")
	}
	return pio.master.Resize(console.WinSize{Width: uint16(width), Height: uint16(height)})
}

// closeStdin ends the process's input.
func (pio *processIO) closeStdin() {
	pio.mu.Lock()
	defer pio.mu.Unlock()
	if pio.stdinW != nil {
		pio.stdinW.Close()
		pio.stdinW = nil
	}
	if pio.master != nil {
		// A terminal's end of input is ^D at the start of a line.
		_, _ = pio.master.Write([]byte{4})
	}
}

// waitOutput waits (a bounded time) for the output copies to finish.
func (pio *processIO) waitOutput(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		pio.copying.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
}

// close releases everything; the process has exited or never ran.
func (pio *processIO) close() {
	pio.mu.Lock()
	if pio.closed {
		pio.mu.Unlock()
		return
	}
	pio.closed = true
	pio.mu.Unlock()
	pio.closeStdin()
	for _, c := range pio.closers {
		c.Close()
	}
	if pio.master != nil {
		pio.master.Close()
	}
	if pio.listener != nil {
		pio.listener.Close()
		os.Remove(pio.consoleSocket)
	}
	for _, f := range []*os.File{pio.child.Stdin, pio.child.Stdout, pio.child.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}
