package wasi

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// limitedAllocator backs linear memories with reserved address space up to
// the cap (so growing never copies) and refuses to grow past it, recording
// how far the module wanted to go.
type limitedAllocator struct {
	limit uint64 // bytes; 0 = none
	// wanted is the largest size a refused grow asked for.
	wanted atomic.Uint64
}

func (a *limitedAllocator) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	if a.limit != 0 && maxBytes > a.limit {
		maxBytes = a.limit
	}
	return &linearMemory{alloc: a, max: maxBytes, buf: reserve(max(capacity, maxBytes))}
}

type linearMemory struct {
	alloc *limitedAllocator
	max   uint64
	// buf is the reserved region (len = reserved size), or nil when the
	// reservation failed and memory lives in ordinary Go slices.
	buf   []byte
	slice []byte
}

func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		for {
			w := m.alloc.wanted.Load()
			if size <= w || m.alloc.wanted.CompareAndSwap(w, size) {
				break
			}
		}
		return nil
	}
	if m.buf != nil && size <= uint64(len(m.buf)) {
		return m.buf[:size]
	}
	// Without a reservation: grow a Go slice, doubling its capacity.
	if size <= uint64(cap(m.slice)) {
		m.slice = m.slice[:size]
		return m.slice
	}
	c := min(max(size, 2*uint64(cap(m.slice))), m.max)
	s := make([]byte, size, c)
	copy(s, m.slice)
	m.slice = s
	return m.slice
}

func (m *linearMemory) Free() {
	if m.buf != nil {
		release(m.buf)
		m.buf = nil
	}
	m.slice = nil
}
