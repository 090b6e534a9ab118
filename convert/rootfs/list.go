package rootfs

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// List writes a listing of a rootfs image in the format of GNU
// `tar --numeric-owner -tvf` for an archive made with `tar -C root -cf - .`:
// one line per name in depth-first, name-sorted order, with paths starting
// "./", directories ending in "/", devices showing "major,minor" instead of a
// size, symlinks " -> target" and second and later names of an inode
// " link to first-name". Times are in the local time zone and names are
// escaped as tar does in a UTF-8 locale.
//
// It lives with the converter rather than the emulator's reader because only
// the c2w CLI needs it, and the emulator binary should not carry it.
func List(w io.Writer, im *fsimg.Image) error {
	l := &lister{w: bufio.NewWriter(w), im: im, seen: map[fsimg.Ino]string{}, width: 19}
	if err := l.entry("./", im.Root()); err != nil {
		return err
	}
	if err := l.dir("./", im.Root()); err != nil {
		return err
	}
	return l.w.Flush()
}

type lister struct {
	w     *bufio.Writer
	im    *fsimg.Image
	seen  map[fsimg.Ino]string // first name of each multiply linked inode
	width int                  // tar's user/group/size column width; it only grows
	err   error
}

func (l *lister) dir(prefix string, dir fsimg.Ino) error {
	err := l.im.ReadDir(dir, 0, func(_ int, e fsimg.DirEntry) bool {
		path := prefix + e.Name
		if e.Type == ModeDir {
			path += "/"
		}
		if l.err = l.entry(path, e.Ino); l.err != nil {
			return false
		}
		if e.Type == ModeDir {
			// Open guarantees that the directories reachable from the root
			// form a tree, so this recursion ends.
			l.err = l.dir(path, e.Ino)
		}
		return l.err == nil
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", prefix, err)
	}
	return l.err
}

func (l *lister) entry(path string, ino fsimg.Ino) error {
	st, err := l.im.Stat(ino)
	if err != nil {
		return fmt.Errorf("listing %s: %w", path, err)
	}
	typ := st.Mode & ModeType
	linkTo, isLink := "", false
	if typ != ModeDir && st.Nlink > 1 {
		if first, ok := l.seen[ino]; ok {
			linkTo, isLink = first, true
		} else {
			l.seen[ino] = path
		}
	}

	size := strconv.FormatInt(st.Size, 10)
	switch {
	case isLink, typ == ModeSymlink, typ == ModeDir:
		size = "0"
	case typ == ModeChar || typ == ModeBlock:
		size = fmt.Sprintf("%d,%d", devMajor(st.Rdev), devMinor(st.Rdev))
	}
	owner := fmt.Sprintf("%d/%d", st.UID, st.GID)
	pad := len(owner) + 1 + len(size)
	l.width = max(l.width, pad)

	fmt.Fprintf(l.w, "%s %s %*s %s %s", modeString(st.Mode, isLink), owner, l.width-pad+len(size), size,
		time.Unix(st.MtimeSec, st.MtimeNsec).Format("2006-01-02 15:04"), tarQuote(path))
	switch {
	case isLink:
		fmt.Fprintf(l.w, " link to %s", tarQuote(linkTo))
	case typ == ModeSymlink:
		target, err := l.im.Readlink(ino)
		if err != nil {
			return fmt.Errorf("listing %s: %w", path, err)
		}
		fmt.Fprintf(l.w, " -> %s", tarQuote(target))
	}
	_, err = l.w.WriteString("\n")
	return err
}

// modeString renders st_mode as ls and tar do, with tar's 'h' for a second
// name of a hard-linked file.
func modeString(mode uint32, hardlink bool) string {
	var b [10]byte
	switch mode & ModeType {
	case ModeDir:
		b[0] = 'd'
	case ModeSymlink:
		b[0] = 'l'
	case ModeChar:
		b[0] = 'c'
	case ModeBlock:
		b[0] = 'b'
	case ModeFIFO:
		b[0] = 'p'
	case ModeSocket:
		b[0] = 's'
	default:
		b[0] = '-'
	}
	if hardlink {
		b[0] = 'h'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if mode&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		} else {
			b[1+i] = '-'
		}
	}
	special := func(pos int, set bool, lower, upper byte) {
		if !set {
			return
		}
		if b[pos] == 'x' {
			b[pos] = lower
		} else {
			b[pos] = upper
		}
	}
	special(3, mode&ModeSetuid != 0, 's', 'S')
	special(6, mode&ModeSetgid != 0, 's', 'S')
	special(9, mode&ModeSticky != 0, 't', 'T')
	return string(b[:])
}

// devMajor and devMinor split a Linux dev_t (glibc's makedev layout).
func devMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&^0xfff }
func devMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&^0xff }

// tarQuote escapes a name the way GNU tar's default "escape" quoting does in
// a UTF-8 locale: printable characters as they are, backslash doubled, C
// escapes for the usual control characters and octal for other bytes.
func tarQuote(s string) string {
	plain := true
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == utf8.RuneError && n <= 1:
			b = fmt.Appendf(b, `\%03o`, s[i])
		case r < 0x80 && !unicode.IsPrint(r) && r != ' ':
			if esc, ok := cEscapes[byte(r)]; ok {
				b = append(b, '\\', esc)
			} else {
				b = fmt.Appendf(b, `\%03o`, r)
			}
		case !unicode.IsPrint(r) && r != ' ':
			for k := range n {
				b = fmt.Appendf(b, `\%03o`, s[i+k])
			}
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

var cEscapes = map[byte]byte{'\a': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'}
