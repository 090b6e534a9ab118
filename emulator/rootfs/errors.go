package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
)

// Errors returned by the reader. Callers map them to Linux errno values at
// the system-call boundary: ErrNotExist → ENOENT, ErrNotDir → ENOTDIR,
// ErrIsDir → EISDIR, ErrInvalid → EINVAL, ErrNoXattr → ENODATA,
// ErrCorrupt → EIO.
var (
	ErrNotExist = fs.ErrNotExist
	ErrInvalid  = fs.ErrInvalid
	ErrNotDir   = errors.New("not a directory")
	ErrIsDir    = errors.New("is a directory")
	ErrNoXattr  = errors.New("no such extended attribute")
	// ErrCorrupt wraps every error caused by a damaged or malformed image.
	ErrCorrupt = errors.New("corrupt rootfs image")
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
