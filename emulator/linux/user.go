package linux

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
	"github.com/wasmrt/wasmrt/emulator/linux/vfs"
	"github.com/wasmrt/wasmrt/emulator/rootfs"
)

// User is an image's USER resolved against its /etc/passwd and
// /etc/group: the credentials and home directory the first process gets.
type User struct {
	// Name is the passwd entry's name ("" when a numeric uid has none).
	Name     string
	UID, GID uint32
	// Groups are the supplementary groups: every /etc/group entry that
	// lists Name, unless the USER named a group explicitly.
	Groups []uint32
	// Home is the passwd entry's home directory ("/" without one).
	Home string
}

// maxID is the largest uid or gid a USER may name (runc's bound: ids
// are signed 32-bit in the kernel's interfaces).
const maxID = 1<<31 - 1

// maxAccountFile bounds how much of /etc/passwd or /etc/group is read,
// so a hostile image cannot make the host read a huge file.
const maxAccountFile = 16 << 20

// LookupUser resolves a docker-style USER string ("name", "uid",
// "name:group", "uid:gid", or "" for root) against img's /etc/passwd and
// /etc/group the way docker and runc do: a name must exist; a numeric id
// is used as is even without an entry; without an explicit group the
// passwd entry's group applies and the supplementary groups come from
// /etc/group; the first matching entry wins.
func LookupUser(img *rootfs.Image, spec string) (User, error) {
	fs, err := vfs.New(img)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", spec, err)
	}
	passwd, err := readAccountFile(fs, "/etc/passwd")
	if err != nil {
		return User{}, err
	}
	group, err := readAccountFile(fs, "/etc/group")
	if err != nil {
		return User{}, err
	}
	return resolveUser(spec, passwd, group)
}

// readAccountFile returns the content of path in the image, nil when the
// image has no such file.
func readAccountFile(fs *vfs.FS, path string) ([]byte, error) {
	n, err := fs.Lookup(fs.Root(), path, true)
	if errors.Is(err, abi.ENOENT) || errors.Is(err, abi.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !n.IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (mode %#o)", path, n.Mode())
	}
	if n.Size() > maxAccountFile {
		return nil, fmt.Errorf("%s: %d bytes, larger than the %d accepted", path, n.Size(), maxAccountFile)
	}
	b := make([]byte, n.Size())
	k, err := n.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b[:k], nil
}

// passwdEntry and groupEntry are the fields of /etc/passwd and /etc/group
// lines that USER resolution needs.
type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// accountLines calls fn with the colon-separated fields of each
// non-empty, non-comment line. Lines that are too long are skipped.
func accountLines(b []byte, fn func(fields []string)) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fn(strings.Split(line, ":"))
	}
}

// parseID parses a decimal uid or gid within [0, maxID].
func parseID(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v > maxID {
		return 0, false
	}
	return uint32(v), true
}

func parsePasswd(b []byte) []passwdEntry {
	var out []passwdEntry
	accountLines(b, func(f []string) {
		if len(f) < 4 {
			return
		}
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			return
		}
		e := passwdEntry{name: f[0], uid: uid, gid: gid}
		if len(f) > 5 {
			e.home = f[5]
		}
		out = append(out, e)
	})
	return out
}

func parseGroup(b []byte) []groupEntry {
	var out []groupEntry
	accountLines(b, func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, ok := parseID(f[2])
		if !ok {
			return
		}
		e := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			e.members = strings.Split(f[3], ",")
		}
		out = append(out, e)
	})
	return out
}

// resolveUser implements LookupUser over the two files' contents (nil
// for a missing file).
func resolveUser(spec string, passwd, group []byte) (User, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	u := User{Home: "/"}
	users := parsePasswd(passwd)
	uid, numericUser := parseID(userPart)
	var found *passwdEntry
	for i := range users {
		e := &users[i]
		if userPart == "" && e.uid == 0 || numericUser && e.uid == uid || !numericUser && userPart != "" && e.name == userPart {
			found = e
			break
		}
	}
	switch {
	case found != nil:
		u.Name, u.UID, u.GID, u.Home = found.name, found.uid, found.gid, found.home
	case userPart == "":
	case numericUser:
		u.UID = uid
	case strings.TrimLeft(userPart, "0123456789") == "":
		return User{}, fmt.Errorf("user %q: uid %s is out of range (0 to %d)", spec, userPart, maxID)
	default:
		return User{}, fmt.Errorf("user %q: no user %q in the image's /etc/passwd", spec, userPart)
	}
	if hasGroup && groupPart == "" {
		return User{}, fmt.Errorf("user %q: empty group after ':'", spec)
	}
	groups := parseGroup(group)
	if hasGroup {
		gid, numericGroup := parseID(groupPart)
		i := slices.IndexFunc(groups, func(g groupEntry) bool {
			if numericGroup {
				return g.gid == gid
			}
			return g.name == groupPart
		})
		switch {
		case i >= 0:
			u.GID = groups[i].gid
		case numericGroup:
			u.GID = gid
		case strings.TrimLeft(groupPart, "0123456789") == "":
			return User{}, fmt.Errorf("user %q: gid %s is out of range (0 to %d)", spec, groupPart, maxID)
		default:
			return User{}, fmt.Errorf("user %q: no group %q in the image's /etc/group", spec, groupPart)
		}
		return u, nil
	}
	if u.Name != "" {
		for _, g := range groups {
			if slices.Contains(g.members, u.Name) {
				u.Groups = append(u.Groups, g.gid)
			}
		}
	}
	return u, nil
}

// Apply makes u the credentials of cfg's first process and, when cfg's
// environment sets no HOME, sets HOME to u's home directory (as docker
// does).
func (u User) Apply(cfg *Config) {
	cfg.UID, cfg.GID, cfg.Groups = u.UID, u.GID, slices.Clone(u.Groups)
	env := cfg.Env
	if env == nil {
		env = slices.DeleteFunc(slices.Clone(DefaultEnv), func(e string) bool { return strings.HasPrefix(e, "HOME=") })
	}
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			cfg.Env = env
			return
		}
	}
	cfg.Env = append(slices.Clip(env), "HOME="+u.Home)
}
