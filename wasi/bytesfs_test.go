package wasi

import (
	"io"
	"testing"
	"testing/fstest"
)

func TestFileFS(t *testing.T) {
	data := []byte("0123456789abcdef")
	fsys := FileFS("rootfs.img", data)
	if err := fstest.TestFS(fsys, "rootfs.img"); err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("rootfs.img")
	if err != nil {
		t.Fatal(err)
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		t.Fatal("no ReaderAt: the runtime would emulate pread with seeks")
	}
	buf := make([]byte, 4)
	if n, err := ra.ReadAt(buf, 10); n != 4 || err != nil || string(buf) != "abcd" {
		t.Errorf("ReadAt = %d %q %v", n, buf, err)
	}
	if _, err := fsys.Open("other"); err == nil {
		t.Error("opened a file that is not there")
	}
	if _, err := fsys.Open("../rootfs.img"); err == nil {
		t.Error("opened an invalid path")
	}
}
