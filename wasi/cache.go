package wasi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tetratelabs/wazero"
)

// DefaultCacheSize bounds a cache whose size is not given.
const DefaultCacheSize = 2 << 30

// trimGrace protects entries used this recently from Trim: a module being
// compiled into its entry right now must not lose it.
const trimGrace = time.Minute

// Cache is a directory of compiled code shared by every host that opens
// it: one wazero compilation cache per module, in a subdirectory named by
// the module's CacheKey (wazero keys its own entries inside it by its
// version, the CPU's features and the SHA-256 of the whole module). Every use touches the
// subdirectory; Trim removes the least recently used ones until the cache
// fits its size. Entries are written to a temporary file and renamed, so
// hosts compiling the same module at once each leave a whole entry.
type Cache struct {
	dir     string
	maxSize int64
}

// OpenCache opens (creating it, private to its owner) the cache at dir,
// bounded to maxSize bytes (DefaultCacheSize when 0).
func OpenCache(dir string, maxSize int64) (*Cache, error) {
	if maxSize <= 0 {
		maxSize = DefaultCacheSize
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", dir, err)
	}
	return &Cache{dir: dir, maxSize: maxSize}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// CacheKey names a module's entry in a Cache: the SHA-256 of the module
// with its data section replaced by the data section's length and CRC-32C.
// A converted module's data is its whole image, hundreds of MiB for large
// ones: CRC-32C runs at memory speed (hardware instructions) where SHA-256
// would add a second per GiB to every start. The key only groups a
// module's compiled code for trimming; wazero's own keys inside the entry
// are SHA-256 of the whole module, so two modules with the same key never
// share code.
func CacheKey(wasm []byte) string {
	h := sha256.New()
	pos := 8 // past the header (checkSections has validated the layout)
	h.Write(wasm[:min(pos, len(wasm))])
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := binary.Uvarint(wasm[pos+1:])
		if n <= 0 || size > uint64(len(wasm)-pos-1-n) {
			h.Write(wasm[pos:])
			break
		}
		end := pos + 1 + n + int(size)
		if id == 11 { // data
			h.Write(wasm[pos : pos+1+n])
			var sum [12]byte
			binary.LittleEndian.PutUint64(sum[:], size)
			binary.LittleEndian.PutUint32(sum[8:], crc32.Checksum(wasm[pos+1+n:end], castagnoli))
			h.Write(sum[:])
		} else {
			h.Write(wasm[pos:end])
		}
		pos = end
	}
	return hex.EncodeToString(h.Sum(nil))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// forModule returns the wazero cache for wasm, marking it used.
func (c *Cache) forModule(wasm []byte) (wazero.CompilationCache, error) {
	dir := filepath.Join(c.dir, CacheKey(wasm))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	now := time.Now()
	if err := os.Chtimes(dir, now, now); err != nil {
		return nil, err
	}
	return wazero.NewCompilationCacheWithDir(dir)
}

// CacheEntry is one module's compiled code in a cache.
type CacheEntry struct {
	Key      string // the module's CacheKey
	Size     int64
	LastUsed time.Time
}

// Entries lists the cache's modules, least recently used first.
func (c *Cache) Entries() ([]CacheEntry, error) {
	dirs, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", c.dir, err)
	}
	var out []CacheEntry
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2*sha256.Size {
			continue
		}
		info, err := d.Info()
		if err != nil {
			continue
		}
		e := CacheEntry{Key: d.Name(), LastUsed: info.ModTime()}
		_ = filepath.WalkDir(filepath.Join(c.dir, d.Name()), func(_ string, f fs.DirEntry, err error) error {
			if err == nil && f.Type().IsRegular() {
				if fi, err := f.Info(); err == nil {
					e.Size += fi.Size()
				}
			}
			return nil
		})
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b CacheEntry) int { return a.LastUsed.Compare(b.LastUsed) })
	return out, nil
}

// Trim removes least recently used modules until the cache fits its size,
// sparing those used within the last minute. It returns how many it
// removed.
func (c *Cache) Trim() (int, error) {
	entries, err := c.Entries()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	removed := 0
	cutoff := time.Now().Add(-trimGrace)
	for _, e := range entries {
		if total <= c.maxSize || e.LastUsed.After(cutoff) {
			break
		}
		if err := os.RemoveAll(filepath.Join(c.dir, e.Key)); err != nil {
			return removed, fmt.Errorf("compilation cache %s: %w", c.dir, err)
		}
		total -= e.Size
		removed++
	}
	return removed, nil
}
