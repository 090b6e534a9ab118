package linux

import (
	"errors"
	"io"

	"github.com/wasmrt/wasmrt/emulator/linux/arch"
)

// frameCacheSize bounds the frames the cache keeps: 8 MiB of frames, and
// the decoded instructions of those that were executed, which the cache
// keeps alive too (up to 32 KiB per address for riscv64). bash and four
// coreutils read 440 pages of the image, python starting a subprocess 774.
const frameCacheSize = 2048

// frameCache keeps the frames of rootfs image pages that processes map
// privately and without write permission — the text and read-only data of
// programs and libraries — so that every process mapping a page shares
// one frame: its bytes come from the image once, not at every exec, and
// its instructions are decoded once per virtual address (the loader and
// mmap place a program and its libraries at the same addresses in every
// process). A process that writes such a page gets a copy. Entries leave
// first in, first out; the address spaces that map an evicted frame keep it.
type frameCache struct {
	slots map[frameKey]*any
	order [frameCacheSize]frameKey // a ring, next is the oldest
	used  int
	next  int
	fills uint64 // frames read from the image (for tests)
}

// frameKey names a page of an image file: its inode and page-aligned offset.
type frameKey struct{ ino, off uint64 }

// slot returns the cache entry of the page, making room for it.
func (c *frameCache) slot(key frameKey) *any {
	if s, ok := c.slots[key]; ok {
		return s
	}
	if c.slots == nil {
		c.slots = make(map[frameKey]*any)
	}
	if c.used == frameCacheSize {
		old := c.order[c.next]
		if s, ok := c.slots[old]; ok {
			arch.ReleaseFrame(s)
			delete(c.slots, old)
		}
	} else {
		c.used++
	}
	c.order[c.next] = key
	c.next = (c.next + 1) % frameCacheSize
	s := new(any)
	c.slots[key] = s
	return s
}

// forget drops an entry that was never filled.
func (c *frameCache) forget(key frameKey) {
	if s, ok := c.slots[key]; ok && *s == nil {
		delete(c.slots, key)
	}
}

// errShortPage is a page of an image file that the file does not wholly
// cover after all; it is read the uncached way.
var errShortPage = errors.New("image page shorter than a page")

// populateImage maps the page of v at page, image file ino's page at off,
// from the frame cache (see frameCache). It returns errShortPage when the
// page cannot come from the cache.
func (m *MM) populateImage(v *vma, page, ino, off uint64) error {
	key := frameKey{ino, off}
	slot := m.k.frames.slot(key)
	filled, err := m.mem.MapPrivateFrame(page, slot, v.perm(), func(f *[pageSize]byte) error {
		k, err := v.file.ReadAt(f[:], v.fileOff+int64(page-v.start))
		if k == len(f) {
			return nil
		}
		if err == nil || err == io.EOF {
			return errShortPage
		}
		return err
	})
	if err != nil {
		m.k.frames.forget(key)
		return err
	}
	if filled {
		m.k.frames.fills++
		if tp := m.k.cfg.Translations.Lookup(ino, off); tp != nil {
			m.mem.SetTranslated(page, tp)
		}
	}
	return nil
}
