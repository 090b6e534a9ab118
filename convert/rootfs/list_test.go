package rootfs

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestListMatchesGNUTar lists an image and, as the oracle, a tar archive of
// the same tree with GNU tar, and expects the same text.
func TestListMatchesGNUTar(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("GNU tar (Debian package tar) is not installed")
	}
	if out, err := exec.Command(tarBin, "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("tar is not GNU tar")
	}
	b := newImgTree(t)
	root := b.tree.Root
	bin := b.dir(root, "bin", 0o755)
	sh := b.file(bin, "sh", 0o4755, []byte("#!binary"))
	bin.Children["ash"] = sh
	b.file(bin, "sgid", 0o2710, []byte("x"))
	b.file(bin, "noexec-suid", 0o4644, []byte("x"))
	tmp := b.dir(root, "tmp", 0o1777)
	b.dir(tmp, "nosearch-sticky", 0o1770)
	dev := b.dir(root, "dev", 0o755)
	b.special(dev, "null", ModeChar|0o666, makedev(1, 3))
	b.special(dev, "nvme", ModeBlock|0o660, makedev(259, 1048575))
	b.special(dev, "fifo", ModeFIFO|0o600, 0)
	b.symlink(root, "lib", "usr/lib")
	odd := b.dir(root, "odd", 0o700)
	for _, name := range []string{"ünïcödé 日本", "new\nline", "tab\there", `back\slash`, "\x01ctl", "bad\xffutf8", "del\x7f"} {
		b.file(odd, name, 0o644, []byte(name))
	}
	b.symlink(odd, "link to odd", "new\nline")
	wide := b.file(root, "wide-owner", 0o640, bytes.Repeat([]byte("w"), 1234567))
	wide.UID, wide.GID = 1234567, 7654321
	b.file(root, "zz-after-wide", 0o644, []byte("narrow owner after a wide one"))

	im := openImage(t, writeImage(t, b.tree, DefaultWriteOptions()))
	var got bytes.Buffer
	if err := List(&got, im); err != nil {
		t.Fatal(err)
	}

	tarPath := filepath.Join(t.TempDir(), "tree.tar")
	writeTreeTar(t, b.tree, tarPath)
	cmd := exec.Command(tarBin, "--numeric-owner", "-tvf", tarPath)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar -tvf: %v", err)
	}
	if got.String() != string(want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
			}
		}
	}
}

// writeTreeTar writes tr as GNU tar would archive its root directory with
// `tar -C root -cf - .`: names "./…", directories with a trailing slash,
// later names of a hard-linked file as links to the first.
func writeTreeTar(t *testing.T, tr *Tree, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	first := map[*Inode]string{}
	err = tr.Walk(func(p string, n *Inode) error {
		name := "." + p
		if n.IsDir() && name != "./" {
			name += "/"
		}
		h := &tar.Header{Name: name, Mode: int64(n.Mode & ModePerm), Uid: int(n.UID), Gid: int(n.GID), ModTime: n.Mtime, Format: tar.FormatPAX}
		if prev, ok := first[n]; ok {
			h.Typeflag, h.Linkname = tar.TypeLink, prev
			return tw.WriteHeader(h)
		}
		first[n] = name
		switch n.Type() {
		case ModeDir:
			h.Typeflag = tar.TypeDir
		case ModeSymlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, n.Target
		case ModeChar, ModeBlock:
			h.Typeflag = tar.TypeChar
			if n.Type() == ModeBlock {
				h.Typeflag = tar.TypeBlock
			}
			h.Devmajor, h.Devminor = int64(devMajor(n.Rdev)), int64(devMinor(n.Rdev))
		case ModeFIFO:
			h.Typeflag = tar.TypeFifo
		case ModeRegular:
			h.Typeflag, h.Size = tar.TypeReg, n.Size
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if n.IsRegular() {
			sr, err := tr.Content(n)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, sr)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListSocketAndErrors(t *testing.T) {
	b := newImgTree(t)
	b.special(b.tree.Root, "sock", ModeSocket|0o755, 0)
	im := openImage(t, writeImage(t, b.tree, DefaultWriteOptions()))
	var out bytes.Buffer
	if err := List(&out, im); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "srwxr-xr-x 0/0 ") || !strings.HasSuffix(lines[1], " ./sock") {
		t.Errorf("listing %q", out.String())
	}
	if err := List(&failingWriter{left: 10}, im); err == nil {
		t.Error("List ignored a write error")
	}
}
