package wasi

import "golang.org/x/sys/unix"

// reserve maps n bytes of zeroed, lazily committed memory: pages count
// towards the process (and its cgroup) only once the module touches them.
// It returns nil when the mapping is refused (e.g. by RLIMIT_AS).
func reserve(n uint64) []byte {
	if n == 0 {
		return nil
	}
	b, err := unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

func release(b []byte) { _ = unix.Munmap(b) }
