package linux

import (
	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
)

// anonFile is what the files behind anonymous inodes (epoll, eventfd,
// timerfd, signalfd, inotify, pidfd) have in common: no inode, not
// seekable, the stat of an anon_inode; reads and writes they do not define
// are EINVAL and closing releases nothing. Each embeds it and defines Poll
// and whatever it does differently.
type anonFile struct{}

func (anonFile) Read([]byte, int64) (int, error)  { return 0, abi.EINVAL }
func (anonFile) Write([]byte, int64) (int, error) { return 0, abi.EINVAL }
func (anonFile) Seekable() bool                   { return false }
func (anonFile) Stat() abi.Stat                   { return abi.Stat{Dev: 0xd, Mode: 0o600, Nlink: 1, Blksize: 4096} }
func (anonFile) Release()                         {}
func (anonFile) Inode() *vfs.Inode                { return nil }
