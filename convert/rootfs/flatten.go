package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wasmrt/wasmrt/convert/layer"
	fsimg "github.com/wasmrt/wasmrt/emulator/rootfs"
)

// Budget defaults used when an ApplyOptions field is zero.
const (
	DefaultMaxTotalSize int64 = 8 << 30
	DefaultMaxFileSize        = DefaultMaxTotalSize
	DefaultMaxEntries         = 1 << 21
)

// Linux limits a layer's names and attributes must respect: the guest could
// not use anything larger, and they bound the memory one tar entry can cost.
// The per-name limits are the rootfs image format's, which are Linux's
// (NAME_MAX, XATTR_SIZE_MAX, PATH_MAX for symlink targets).
const (
	pathMax     = 4095 // PATH_MAX without the terminating NUL
	maxSymlinks = 40   // MAXSYMLINKS: links followed while resolving one path
	// maxDepth bounds directory nesting: the deepest a PATH_MAX path can
	// reach. It keeps every recursive walk of the tree shallow.
	maxDepth = (pathMax + 1) / 2
	// maxResolveSteps bounds the components one lookup may visit, counting
	// those symlink targets add: room for 4 full-length paths.
	maxResolveSteps = 4 * maxDepth
)

// OCI whiteout names (image-spec layer.md).
const (
	whiteoutPrefix     = ".wh."
	whiteoutMetaPrefix = ".wh..wh."
	whiteoutOpaque     = ".wh..wh..opq"
)

// implicitDirMtime is the modification time of directories a layer implies
// without an entry of their own; a fixed value keeps conversions reproducible.
var implicitDirMtime = time.Unix(0, 0).UTC()

// Errors Apply wraps; the messages around them name the layer and the entry.
var (
	// ErrBudgetExceeded means a layer asked for more than ApplyOptions allow.
	ErrBudgetExceeded = errors.New("budget exceeded")
	// ErrInvalidEntry means a tar entry is malformed or unsafe.
	ErrInvalidEntry = errors.New("invalid entry")
)

// ApplyOptions bounds what one layer may make a tree store, and names the
// layer in errors. Zero fields take the Default values.
type ApplyOptions struct {
	// MaxFileSize bounds one regular file's size, checked against the size
	// the tar header declares before any content is read.
	MaxFileSize int64
	// MaxTotalSize bounds Tree.ContentBytes (all content stored so far, in
	// every layer, including content later replaced) after this layer.
	MaxTotalSize int64
	// MaxEntries bounds the entries in this layer, counting the directories
	// the layer creates implicitly.
	MaxEntries int
	// LayerName names the layer in errors, for example its digest.
	LayerName string
}

// Apply applies one uncompressed tar layer on top of the tree, with the OCI
// image-spec changeset semantics:
//
//   - Entries apply in order; a later entry for the same path wins. An entry
//     replaces an existing one of another type (with everything below it); a
//     directory entry over an existing directory only updates its metadata.
//   - Parent directories a layer does not list are created as 0755 root-owned
//     directories, as containerd does.
//   - ".wh.NAME" deletes NAME of lower layers, and ".wh..wh..opq" hides all
//     lower-layer content of its directory. Both leave this layer's own
//     entries alone whatever their order in the tar. Other ".wh..wh." names
//     are AUFS bookkeeping and are skipped.
//   - Hard links share the target's *Inode. Symlink targets are stored
//     verbatim. Devices and FIFOs are metadata only. Modes keep the setuid,
//     setgid and sticky bits; uid, gid, mtime (with PAX sub-second precision)
//     and "SCHILY.xattr." extended attributes are kept.
//
// Names are resolved as containerd's applier does, confined to the tree as
// if by chroot: absolute names and ".." are cleaned lexically first, so
// "/etc/x" and "../../etc/x" both mean "etc/x"; symlinks among the parent
// directories are followed, with absolute targets and ".." starting over at
// or stopping at the tree's root ("evil -> ../../.." then "evil/passwd"
// writes "passwd" in the root); the last component is never followed, so an
// entry replaces a symlink rather than writing through it. Nothing is created
// on the host: content goes to the tree's spill file only.
//
// Apply fails, naming the layer and the entry, on a malformed tar, a truncated
// stream, an unsupported entry type, a hard link whose target escapes the
// root, is missing or is a directory, a whiteout of "", "." or "..", a
// whiteout prefix in a directory name, names beyond Linux limits, a parent
// that is not a directory, symlink loops, or a budget overrun. The tree is
// partly updated after an error and should be discarded.
//
// Apply stops at the tar end-of-archive marker and does not read r further.
func (t *Tree) Apply(r io.Reader, opts ApplyOptions) error {
	if t.spill == nil {
		return errors.New("rootfs: tree is closed")
	}
	a := &applier{
		t:             t,
		opts:          opts,
		layer:         opts.LayerName,
		touchedDirs:   map[*Inode]struct{}{},
		touchedLeaves: map[entryKey]struct{}{},
		clean:         map[*Inode]struct{}{},
	}
	if a.layer == "" {
		a.layer = "(unnamed)"
	}
	if a.opts.MaxTotalSize <= 0 {
		a.opts.MaxTotalSize = DefaultMaxTotalSize
	}
	if a.opts.MaxFileSize <= 0 {
		a.opts.MaxFileSize = DefaultMaxFileSize
	}
	if a.opts.MaxEntries <= 0 {
		a.opts.MaxEntries = DefaultMaxEntries
	}

	tr := tar.NewReader(r)
	var prev string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if prev == "" {
				return fmt.Errorf("layer %s: reading the first tar header: %w", a.layer, err)
			}
			return fmt.Errorf("layer %s: reading the tar header after entry %s: %w", a.layer, quoteEntry(prev), err)
		}
		err = a.countEntry()
		if err == nil {
			err = a.apply(hdr, tr)
		}
		if err != nil {
			return fmt.Errorf("layer %s: entry %s: %w", a.layer, quoteEntry(hdr.Name), err)
		}
		prev = hdr.Name
	}
}

// ApplyLayer decodes a layer blob with package layer (detecting its
// compression, enforcing dopts' size budget and verifying desc) and applies
// it. The blob is read to its end even when the tar ends early or is
// rejected, so trailing bytes are verified too. When the blob fails
// verification that error is returned, since it explains any tar error it
// caused. An empty opts.LayerName is taken from the blob's digest.
func (t *Tree) ApplyLayer(blob io.Reader, desc layer.Descriptor, dopts layer.Options, opts ApplyOptions) error {
	if opts.LayerName == "" && desc.Digest != (v1.Hash{}) {
		opts.LayerName = desc.Digest.String()
	}
	r, err := layer.Decode(blob, desc, dopts)
	if err != nil {
		return err
	}
	applyErr := t.Apply(r, opts)
	if closeErr := r.Close(); closeErr != nil {
		return closeErr
	}
	return applyErr
}

// quoteEntry quotes an entry name for an error message, eliding the middle
// of names too long to read (a PAX name can be a megabyte).
func quoteEntry(name string) string {
	const keep = 100
	if len(name) <= 2*keep {
		return strconv.Quote(name)
	}
	return fmt.Sprintf("%s…(%d bytes)…%s", strconv.Quote(name[:keep]), len(name), strconv.Quote(name[len(name)-keep:]))
}

// applier holds the state of one Apply call.
type applier struct {
	t       *Tree
	opts    ApplyOptions
	layer   string
	entries int

	// What this layer contributed, so whiteouts and opaque markers can hide
	// lower-layer content only, whatever the entry order. A directory counts
	// as this layer's when the layer created it, listed it, or put something
	// below it; a non-directory when the layer created that directory entry.
	touchedDirs   map[*Inode]struct{}
	touchedLeaves map[entryKey]struct{}
	// clean holds directories known to contain only this layer's entries
	// (created by it, or already stripped by an opaque marker), so hiding
	// lower content in them again is a no-op; this keeps repeated markers
	// linear.
	clean map[*Inode]struct{}
}

// entryKey names one directory entry.
type entryKey struct {
	dir  *Inode
	name string
}

func (a *applier) countEntry() error {
	a.entries++
	if a.entries > a.opts.MaxEntries {
		return fmt.Errorf("%w: more than %d entries in the layer (counting implicitly created directories)",
			ErrBudgetExceeded, a.opts.MaxEntries)
	}
	return nil
}

func (a *applier) apply(hdr *tar.Header, tr *tar.Reader) error {
	comps, err := splitName(hdr.Name)
	if err != nil {
		return err
	}
	if len(comps) == 0 {
		// Both containerd and Docker skip entries naming the root itself
		// ("./"); only a directory may name it.
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("%w: a non-directory cannot replace the root directory", ErrInvalidEntry)
	}
	base := comps[len(comps)-1]
	for _, c := range comps[:len(comps)-1] {
		if strings.HasPrefix(c, whiteoutMetaPrefix) {
			return nil // inside an AUFS bookkeeping directory
		}
		if strings.HasPrefix(c, whiteoutPrefix) {
			return fmt.Errorf("%w: directory %q has the reserved whiteout prefix %q", ErrInvalidEntry, c, whiteoutPrefix)
		}
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		return a.whiteout(comps[:len(comps)-1], base)
	}

	parent, depth, err := a.resolveDir(comps[:len(comps)-1], true)
	if err != nil {
		return err
	}
	if depth >= maxDepth {
		return fmt.Errorf("%w: nested more than %d directories deep", ErrInvalidEntry, maxDepth)
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.applyDir(parent, base, hdr)
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		// TypeCont (contiguous file) is a regular file for every reader; the
		// tar reader expands GNU sparse files to their full content.
		return a.applyRegular(parent, base, hdr, tr)
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return fmt.Errorf("%w: symlink with an empty target", ErrInvalidEntry)
		}
		if len(hdr.Linkname) > fsimg.MaxSymlinkLen {
			return fmt.Errorf("%w: symlink target is %d bytes; Linux allows %d", ErrInvalidEntry, len(hdr.Linkname), fsimg.MaxSymlinkLen)
		}
		return a.applyLeaf(parent, base, hdr, ModeSymlink, func(ino *Inode) { ino.Target = hdr.Linkname })
	case tar.TypeLink:
		return a.applyHardlink(parent, base, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		rdev, err := deviceNumber(hdr)
		if err != nil {
			return err
		}
		mode := uint32(ModeChar)
		if hdr.Typeflag == tar.TypeBlock {
			mode = ModeBlock
		}
		return a.applyLeaf(parent, base, hdr, mode, func(ino *Inode) { ino.Rdev = rdev })
	case tar.TypeFifo:
		return a.applyLeaf(parent, base, hdr, ModeFIFO, nil)
	default:
		return fmt.Errorf("%w: unsupported tar entry type %q", ErrInvalidEntry, hdr.Typeflag)
	}
}

// splitName cleans a tar entry name inside the root (see Apply) and splits
// it into components; the root itself has none.
func splitName(name string) ([]string, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrInvalidEntry)
	}
	clean := path.Clean("/" + name)
	if clean == "/" {
		return nil, nil
	}
	if len(clean)-1 > pathMax {
		return nil, fmt.Errorf("%w: name is %d bytes; Linux paths are at most %d", ErrInvalidEntry, len(clean)-1, pathMax)
	}
	comps := strings.Split(clean[1:], "/")
	for _, c := range comps {
		if len(c) > fsimg.MaxNameLen {
			return nil, fmt.Errorf("%w: name component is %d bytes; Linux allows %d", ErrInvalidEntry, len(c), fsimg.MaxNameLen)
		}
	}
	return comps, nil
}

// errNotFound reports, during a lookup that may not create, that a path
// component does not exist.
var errNotFound = errors.New("not found")

// notDirError reports a parent path component that is not a directory.
type notDirError struct {
	name string
	mode uint32
}

func (e *notDirError) Error() string {
	return fmt.Sprintf("%v: parent %q is a %s, not a directory", ErrInvalidEntry, e.name, fileTypeName(e.mode))
}

func (e *notDirError) Unwrap() error { return ErrInvalidEntry }

// resolveDir resolves parent-directory components to a directory, following
// symlinks as if the tree's root were the file-system root (see Apply). With
// create, missing directories are created implicitly and every directory on
// the resolved path is marked as this layer's; without it, a missing
// component yields errNotFound. It returns the directory and its depth.
func (a *applier) resolveDir(comps []string, create bool) (*Inode, int, error) {
	stack := make([]*Inode, 1, len(comps)+1) // the resolved path, root first
	stack[0] = a.t.Root
	// work holds the components still to resolve, the next one last.
	work := make([]string, len(comps))
	for i, c := range comps {
		work[len(comps)-1-i] = c
	}
	var missing []string // components below the deepest existing directory
	links, steps := 0, 0
	for len(work) > 0 {
		c := work[len(work)-1]
		work = work[:len(work)-1]
		if steps++; steps > maxResolveSteps {
			return nil, 0, fmt.Errorf("%w: resolving the path visits more than %d components", ErrInvalidEntry, maxResolveSteps)
		}
		switch {
		case c == "" || c == ".":
			continue
		case c == "..":
			// ".." never leaves the root, as in a chroot.
			if len(missing) > 0 {
				missing = missing[:len(missing)-1]
			} else if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		case len(missing) > 0:
			// Below a missing directory nothing exists, so nothing can be
			// a symlink: the rest is lexical.
			missing = append(missing, c)
			continue
		}
		child, ok := stack[len(stack)-1].Children[c]
		if !ok {
			missing = append(missing, c)
			continue
		}
		switch child.Type() {
		case ModeDir:
			stack = append(stack, child)
		case ModeSymlink:
			if links++; links > maxSymlinks {
				return nil, 0, fmt.Errorf("%w: too many levels of symbolic links (more than %d)", ErrInvalidEntry, maxSymlinks)
			}
			if strings.HasPrefix(child.Target, "/") {
				stack = stack[:1]
			}
			target := strings.Split(child.Target, "/")
			for i := len(target) - 1; i >= 0; i-- {
				work = append(work, target[i])
			}
		default:
			return nil, 0, &notDirError{name: c, mode: child.Mode}
		}
	}
	if len(missing) > 0 && !create {
		return nil, 0, errNotFound
	}
	if create {
		a.markPath(stack)
		for _, c := range missing {
			if len(c) > fsimg.MaxNameLen {
				return nil, 0, fmt.Errorf("%w: implied directory name is %d bytes; Linux allows %d", ErrInvalidEntry, len(c), fsimg.MaxNameLen)
			}
			if len(stack) > maxDepth {
				return nil, 0, fmt.Errorf("%w: nested more than %d directories deep", ErrInvalidEntry, maxDepth)
			}
			if err := a.countEntry(); err != nil {
				return nil, 0, err
			}
			dir := NewDir(0o755)
			dir.Mtime = implicitDirMtime
			stack[len(stack)-1].Children[c] = dir
			a.touchedDirs[dir] = struct{}{}
			a.clean[dir] = struct{}{}
			stack = append(stack, dir)
		}
	}
	return stack[len(stack)-1], len(stack) - 1, nil
}

// markPath marks the directories of a resolved path, root first, as this
// layer's. Marks always cover a whole path from the root, so the walk stops
// at the first directory already marked.
func (a *applier) markPath(stack []*Inode) {
	for i := len(stack) - 1; i >= 0; i-- {
		if _, ok := a.touchedDirs[stack[i]]; ok {
			return
		}
		a.touchedDirs[stack[i]] = struct{}{}
	}
}

// touched reports whether the entry name -> child of dir is this layer's.
func (a *applier) touched(dir *Inode, name string, child *Inode) bool {
	if child.IsDir() {
		_, ok := a.touchedDirs[child]
		return ok
	}
	_, ok := a.touchedLeaves[entryKey{dir, name}]
	return ok
}

// whiteout applies ".wh.NAME" or the opaque marker in the directory named by
// parent. Only lower-layer content is hidden: entries of this layer survive
// whether they came before or after the whiteout.
func (a *applier) whiteout(parent []string, base string) error {
	var name string
	switch {
	case base == whiteoutOpaque:
	case strings.HasPrefix(base, whiteoutMetaPrefix):
		return nil // AUFS bookkeeping, meaningless here
	default:
		name = base[len(whiteoutPrefix):]
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf("%w: whiteout of %q", ErrInvalidEntry, name)
		}
	}
	dir, _, err := a.resolveDir(parent, false)
	var notDir *notDirError
	if errors.Is(err, errNotFound) || errors.As(err, &notDir) {
		return nil // no such directory: nothing to hide
	}
	if err != nil {
		return err // a symlink loop or an overlong path
	}
	if base == whiteoutOpaque {
		a.hideLower(dir)
		return nil
	}
	child, ok := dir.Children[name]
	switch {
	case !ok:
	case a.touched(dir, name, child):
		if child.IsDir() {
			a.hideLower(child)
		}
	default:
		delete(dir.Children, name)
	}
	return nil
}

// hideLower removes every lower-layer entry below dir, keeping this layer's.
func (a *applier) hideLower(dir *Inode) {
	if _, ok := a.clean[dir]; ok {
		return
	}
	a.clean[dir] = struct{}{}
	for name, child := range dir.Children {
		switch {
		case !a.touched(dir, name, child):
			delete(dir.Children, name)
		case child.IsDir():
			a.hideLower(child)
		}
	}
}

func (a *applier) applyDir(parent *Inode, name string, hdr *tar.Header) error {
	meta, err := tarMetaOf(hdr)
	if err != nil {
		return err
	}
	dir := parent.Children[name]
	if dir == nil || !dir.IsDir() {
		dir = NewDir(0)
		parent.Children[name] = dir
		a.clean[dir] = struct{}{}
	}
	meta.applyTo(dir, ModeDir)
	a.touchedDirs[dir] = struct{}{}
	return nil
}

func (a *applier) applyRegular(parent *Inode, name string, hdr *tar.Header, tr *tar.Reader) error {
	meta, err := tarMetaOf(hdr)
	if err != nil {
		return err
	}
	if hdr.Size > a.opts.MaxFileSize {
		return fmt.Errorf("%w: declared size %s exceeds the %s per-file limit",
			ErrBudgetExceeded, layer.FormatBytes(hdr.Size), layer.FormatBytes(a.opts.MaxFileSize))
	}
	if stored := a.t.ContentBytes(); hdr.Size > a.opts.MaxTotalSize-stored {
		return fmt.Errorf("%w: declared size %s on top of the %s already stored exceeds the %s total limit",
			ErrBudgetExceeded, layer.FormatBytes(hdr.Size), layer.FormatBytes(stored), layer.FormatBytes(a.opts.MaxTotalSize))
	}
	ino := &Inode{}
	meta.applyTo(ino, ModeRegular)
	if _, err := a.t.SetContent(ino, tr, hdr.Size); err != nil {
		return fmt.Errorf("reading content: %w", err)
	}
	a.place(parent, name, ino)
	return nil
}

// applyLeaf creates a symlink, device or FIFO; fill sets its type-specific
// fields.
func (a *applier) applyLeaf(parent *Inode, name string, hdr *tar.Header, fileType uint32, fill func(*Inode)) error {
	meta, err := tarMetaOf(hdr)
	if err != nil {
		return err
	}
	ino := &Inode{}
	meta.applyTo(ino, fileType)
	if fill != nil {
		fill(ino)
	}
	a.place(parent, name, ino)
	return nil
}

// applyHardlink makes parent/name another name of the inode target names.
// As with link(2), the entry's own metadata is ignored; the target's stays.
func (a *applier) applyHardlink(parent *Inode, name, target string) error {
	if target == "" {
		return fmt.Errorf("%w: hard link with an empty target", ErrInvalidEntry)
	}
	// A relative target is relative to the root; climbing above it is an
	// escape attempt (Docker rejects it the same way), not a name to clean.
	if clean := path.Clean(target); clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("%w: hard link target %q is outside the root", ErrInvalidEntry, target)
	}
	comps, err := splitName(target)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	if len(comps) == 0 {
		return fmt.Errorf("%w: hard link to the root directory", ErrInvalidEntry)
	}
	// The target's parents resolve like any name; its last component is not
	// followed, so a link to a symlink links the symlink (as containerd does).
	dir, _, err := a.resolveDir(comps[:len(comps)-1], false)
	var ino *Inode
	if err == nil {
		ino = dir.Children[comps[len(comps)-1]]
	} else if !errors.Is(err, errNotFound) {
		return fmt.Errorf("hard link target %q: %w", target, err)
	}
	if ino == nil {
		return fmt.Errorf("%w: hard link target %q does not exist (a link must follow its target)", ErrInvalidEntry, target)
	}
	if ino.IsDir() {
		return fmt.Errorf("%w: hard link target %q is a directory", ErrInvalidEntry, target)
	}
	a.place(parent, name, ino)
	return nil
}

// place makes parent/name refer to ino, replacing what was there.
func (a *applier) place(parent *Inode, name string, ino *Inode) {
	parent.Children[name] = ino
	a.touchedLeaves[entryKey{parent, name}] = struct{}{}
}

// tarMeta is what a tar header says about any inode.
type tarMeta struct {
	perm     uint32
	uid, gid uint32
	mtime    time.Time
	xattrs   map[string][]byte
}

func tarMetaOf(hdr *tar.Header) (tarMeta, error) {
	m := tarMeta{perm: uint32(hdr.Mode) & ModePerm, mtime: hdr.ModTime}
	if hdr.Uid < 0 || int64(hdr.Uid) > math.MaxUint32 || hdr.Gid < 0 || int64(hdr.Gid) > math.MaxUint32 {
		return m, fmt.Errorf("%w: uid %d or gid %d is outside 0..%d", ErrInvalidEntry, hdr.Uid, hdr.Gid, uint32(math.MaxUint32))
	}
	m.uid, m.gid = uint32(hdr.Uid), uint32(hdr.Gid)
	const xattrPAXPrefix = "SCHILY.xattr."
	for key, value := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(key, xattrPAXPrefix)
		if !ok {
			continue
		}
		if name == "" || len(name) > fsimg.MaxXattrNameLen {
			return m, fmt.Errorf("%w: extended attribute name %q must be 1 to %d bytes", ErrInvalidEntry, name, fsimg.MaxXattrNameLen)
		}
		if len(value) > fsimg.MaxXattrValueLen {
			return m, fmt.Errorf("%w: extended attribute %q is %d bytes; Linux allows %d", ErrInvalidEntry, name, len(value), fsimg.MaxXattrValueLen)
		}
		if m.xattrs == nil {
			m.xattrs = map[string][]byte{}
		}
		m.xattrs[name] = []byte(value)
	}
	return m, nil
}

// applyTo sets ino's metadata, replacing all of it (extended attributes
// included): an entry describes the object's whole state.
func (m tarMeta) applyTo(ino *Inode, fileType uint32) {
	ino.Mode = fileType | m.perm
	ino.UID, ino.GID = m.uid, m.gid
	ino.Mtime = m.mtime
	ino.Xattrs = m.xattrs
}

// deviceNumber encodes a device entry's numbers as Linux's 64-bit dev_t
// (glibc's makedev layout).
func deviceNumber(hdr *tar.Header) (uint64, error) {
	if hdr.Devmajor < 0 || hdr.Devmajor > math.MaxUint32 || hdr.Devminor < 0 || hdr.Devminor > math.MaxUint32 {
		return 0, fmt.Errorf("%w: device number %d:%d is outside 0..%d", ErrInvalidEntry, hdr.Devmajor, hdr.Devminor, uint32(math.MaxUint32))
	}
	major, minor := uint64(hdr.Devmajor), uint64(hdr.Devminor)
	return major&0xfff<<8 | major&^0xfff<<32 | minor&0xff | minor&^0xff<<12, nil
}

func fileTypeName(mode uint32) string {
	switch mode & ModeType {
	case ModeRegular:
		return "regular file"
	case ModeDir:
		return "directory"
	case ModeSymlink:
		return "symlink"
	case ModeChar:
		return "character device"
	case ModeBlock:
		return "block device"
	case ModeFIFO:
		return "FIFO"
	case ModeSocket:
		return "socket"
	default:
		return fmt.Sprintf("file of type %#o", mode&ModeType)
	}
}
