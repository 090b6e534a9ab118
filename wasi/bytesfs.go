package wasi

import (
	"bytes"
	"io"
	"io/fs"
	"time"
)

// FileFS is a read-only file system holding one regular file, name, whose
// contents are data (not copied): a host mounts it (Preopen.FS) to give a
// module bytes it already holds, such as an image in a mapped file, which
// the module reads with fd_pread where they lie.
func FileFS(name string, data []byte) fs.FS {
	return fileFS{name: name, data: data}
}

type fileFS struct {
	name string
	data []byte
}

func (f fileFS) Open(name string) (fs.File, error) {
	switch {
	case !fs.ValidPath(name):
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	case name == ".":
		return &rootDir{fs: f}, nil
	case name == f.name:
		return &memFile{info: fileInfo{name: f.name, size: int64(len(f.data)), mode: 0o444}, Reader: bytes.NewReader(f.data)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// memFile is the file: reads, pread (io.ReaderAt) and seeks.
type memFile struct {
	info fileInfo
	*bytes.Reader
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

// rootDir lists the one file.
type rootDir struct {
	fs   fileFS
	done bool
}

func (d *rootDir) Stat() (fs.FileInfo, error) {
	return fileInfo{name: ".", mode: fs.ModeDir | 0o555}, nil
}
func (d *rootDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}
}
func (d *rootDir) Close() error { return nil }

// ReadDir lists the file once (n <= 0: all of it, as fs.ReadDirFile says).
func (d *rootDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.done {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.done = true
	return []fs.DirEntry{fs.FileInfoToDirEntry(fileInfo{name: d.fs.name, size: int64(len(d.fs.data)), mode: 0o444})}, nil
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }
