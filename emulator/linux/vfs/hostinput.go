package vfs

import (
	"io"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// HostInput is the machine's view of a host byte stream it reads (its
// standard input). A goroutine reads the host stream and hands chunks to
// the machine's goroutine, so a guest task waiting for input parks like
// one waiting on a pipe while the other tasks run; the machine blocks on
// the host only when nothing else can run (Wait).
//
// The reader goroutine starts on the first read or poll, so input a guest
// never asks for is never consumed. It reads one chunk ahead at most.
type HostInput struct {
	r       io.Reader
	started bool
	// buf holds received bytes not yet read by the guest.
	buf []byte
	// ended is set once the host reader returned an error or EOF and buf
	// drained to it; failed when that was an error other than EOF.
	ended, failed bool
	// arrived is set when a chunk is taken, until Arrived reports it.
	arrived bool
	chunks  chan hostChunk
	// done ends the reader goroutine once the machine stopped (a read
	// already waiting on the host still completes, then is dropped).
	done chan struct{}
}

type hostChunk struct {
	b   []byte
	err error
}

// hostChunkSize is how much one host read asks for.
const hostChunkSize = 32 << 10

// NewHostInput returns the machine's reader of r.
func NewHostInput(r io.Reader) *HostInput {
	return &HostInput{r: r, chunks: make(chan hostChunk, 1), done: make(chan struct{})}
}

// Close stops reading the host stream. Reads after Close see its end.
func (h *HostInput) Close() {
	select {
	case <-h.done:
	default:
		close(h.done)
	}
	h.ended, h.buf = true, nil
}

func (h *HostInput) start() {
	if h.started || h.r == nil || h.ended {
		return
	}
	h.started = true
	go func() {
		for {
			b := make([]byte, hostChunkSize)
			n, err := h.r.Read(b)
			if n > 0 || err != nil {
				select {
				case h.chunks <- hostChunk{b[:n], err}:
				case <-h.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
}

// take stores a received chunk.
func (h *HostInput) take(c hostChunk) {
	h.arrived = true
	h.buf = append(h.buf, c.b...)
	if c.err != nil {
		h.ended = true
		h.failed = c.err != io.EOF
	}
}

// drain collects what the reader delivered, without waiting.
func (h *HostInput) drain() {
	h.start()
	for !h.ended {
		select {
		case c := <-h.chunks:
			h.take(c)
		default:
			return
		}
	}
}

// Read returns buffered input, 0 at the end of the host stream, or
// ErrWouldBlock while the host has nothing yet.
func (h *HostInput) Read(p []byte) (int, error) {
	if h.r == nil || len(p) == 0 {
		return 0, nil
	}
	h.drain()
	if len(h.buf) == 0 {
		switch {
		case h.failed:
			h.failed = false
			return 0, abi.EIO
		case h.ended:
			return 0, nil
		}
		return 0, ErrWouldBlock
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	if len(h.buf) == 0 {
		h.buf = nil
	}
	return n, nil
}

// Ready reports whether a read would not block.
func (h *HostInput) Ready() bool {
	if h.r == nil {
		return true
	}
	h.drain()
	return len(h.buf) > 0 || h.ended
}

// Arrived reports whether input (or its end) arrived since it was last
// asked: a task that found nothing to read a moment ago may now go on.
// The scheduler asks before it concludes that every task is stuck.
func (h *HostInput) Arrived() bool {
	if h.r == nil {
		return false
	}
	h.drain()
	a := h.arrived
	h.arrived = false
	return a
}

// Pending reports whether a guest asked for input the host has not sent
// yet: the machine may then block in Wait.
func (h *HostInput) Pending() bool { return h.started && !h.Ready() }

// Wait blocks the calling goroutine until d passes (d < 0: no limit), one
// of the (at most two) wake channels is ready, or, when input is set, the
// host delivers input (or its end). It reports whether input arrived.
func (h *HostInput) Wait(d time.Duration, input bool, wake ...<-chan struct{}) bool {
	var wake0, wake1 <-chan struct{}
	switch len(wake) {
	case 0:
	case 1:
		wake0 = wake[0]
	case 2:
		wake0, wake1 = wake[0], wake[1]
	default:
		panic("vfs: HostInput.Wait takes at most two wake channels")
	}
	var chunks chan hostChunk
	if input && h.Pending() {
		chunks = h.chunks
	}
	var timeout <-chan time.Time
	if d >= 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case c := <-chunks:
		h.take(c)
		return true
	case <-timeout:
	case <-wake0:
	case <-wake1:
	}
	return false
}
