package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readModule maps a module file read-only instead of reading it: a
// converted module holds its whole image, and the host reads the module
// once more anyway, so a copy here would cost time and memory in
// proportion to the image. The mapping lives as long as the process.
func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() == 0 || st.Size() > 1<<40 {
		return os.ReadFile(path)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	return b, nil
}
