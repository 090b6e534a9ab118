package wasi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// the SHA-256 of the module's bytes (wazero keys its own entries by its
// version, the CPU's features and the module again). Every use touches the
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

// forModule returns the wazero cache for wasm, marking it used.
func (c *Cache) forModule(wasm []byte) (wazero.CompilationCache, error) {
	sum := sha256.Sum256(wasm)
	dir := filepath.Join(c.dir, hex.EncodeToString(sum[:]))
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
	Digest   string // sha256:HEX of the module
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
		e := CacheEntry{Digest: "sha256:" + d.Name(), LastUsed: info.ModTime()}
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
		if err := os.RemoveAll(filepath.Join(c.dir, e.Digest[len("sha256:"):])); err != nil {
			return removed, fmt.Errorf("compilation cache %s: %w", c.dir, err)
		}
		total -= e.Size
		removed++
	}
	return removed, nil
}
