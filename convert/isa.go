package convert

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wasmrt/wasmrt/convert/rootfs"
)

// shtRISCVAttributes is the section type of .riscv.attributes (psABI).
const shtRISCVAttributes = elf.SectionType(0x70000003)

// tagRISCVArch is Tag_RISCV_arch: the ISA string the object was built for.
const tagRISCVArch = 5

// riscvArch returns the ISA string recorded in a riscv64 ELF file's
// .riscv.attributes section, e.g. "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0", or ""
// when the file records none.
func riscvArch(r io.ReaderAt) (string, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return "", err
	}
	if f.Machine != elf.EM_RISCV {
		return "", fmt.Errorf("not a RISC-V ELF file (machine %s)", f.Machine)
	}
	for _, s := range f.Sections {
		if s.Type != shtRISCVAttributes {
			continue
		}
		if s.Size > 1<<16 {
			return "", errors.New(".riscv.attributes is implausibly large")
		}
		b, err := s.Data()
		if err != nil {
			return "", err
		}
		return parseRISCVArch(b)
	}
	return "", nil
}

// parseRISCVArch finds Tag_RISCV_arch in an ELF attributes section: a
// version byte 'A', then vendor subsections (length, NUL-terminated vendor
// name, then file/section/symbol sub-subsections of tag/value pairs). In
// RISC-V attributes an odd tag takes a NUL-terminated string, an even tag a
// ULEB128 number.
func parseRISCVArch(b []byte) (string, error) {
	if len(b) == 0 || b[0] != 'A' {
		return "", errors.New("attributes section: unknown format version")
	}
	b = b[1:]
	for len(b) >= 4 {
		n := binary.LittleEndian.Uint32(b)
		if n < 4 || uint64(n) > uint64(len(b)) {
			return "", errors.New("attributes section: bad subsection length")
		}
		sub := b[4:n]
		b = b[n:]
		i := bytes.IndexByte(sub, 0)
		if i < 0 {
			return "", errors.New("attributes section: unterminated vendor name")
		}
		if string(sub[:i]) != "riscv" {
			continue
		}
		sub = sub[i+1:]
		for len(sub) >= 5 {
			tag := sub[0]
			size := binary.LittleEndian.Uint32(sub[1:])
			if size < 5 || uint64(size) > uint64(len(sub)) {
				return "", errors.New("attributes section: bad sub-subsection length")
			}
			attrs := sub[5:size]
			sub = sub[size:]
			if tag != 1 { // Tag_File: attributes of the whole object
				continue
			}
			for len(attrs) > 0 {
				t, k := binary.Uvarint(attrs)
				if k <= 0 {
					return "", errors.New("attributes section: bad tag")
				}
				attrs = attrs[k:]
				if t%2 == 1 {
					j := bytes.IndexByte(attrs, 0)
					if j < 0 {
						return "", errors.New("attributes section: unterminated string")
					}
					if t == tagRISCVArch {
						return string(attrs[:j]), nil
					}
					attrs = attrs[j+1:]
				} else {
					_, k := binary.Uvarint(attrs)
					if k <= 0 {
						return "", errors.New("attributes section: bad value")
					}
					attrs = attrs[k:]
				}
			}
		}
	}
	return "", nil
}

// needsVector reports whether an ISA string includes the V extension or any
// vector extension (Zve*, Zvl*, …), which RVA23 binaries do and the RV64GC
// emulator cannot run.
func needsVector(arch string) bool {
	parts := strings.Split(strings.ToLower(arch), "_")
	if len(parts) == 0 || !strings.HasPrefix(parts[0], "rv64") && !strings.HasPrefix(parts[0], "rv32") {
		return false
	}
	// The first part holds the base and the single-letter extensions,
	// each followed by its version: "rv64i2p1" or "rv64imafdcv".
	for _, c := range stripVersions(parts[0][4:]) {
		if c == 'v' {
			return true
		}
	}
	for _, p := range parts[1:] {
		// Every multi-letter vector extension (Zve*, Zvl*, Zvfh, …) is "zv…".
		if strings.HasPrefix(p, "zv") || p == "v" || isVersioned(p, "v") {
			return true
		}
	}
	return false
}

// stripVersions drops the "2p1" version suffixes from single-letter
// extensions: "i2p1m2p0" → "im".
func stripVersions(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' && c != 'p' || c == 'p' && (i == 0 || s[i-1] < '0' || s[i-1] > '9') {
			out = append(out, c)
		}
	}
	return string(out)
}

// isVersioned reports whether p is extension ext followed by a version such
// as "1p0".
func isVersioned(p, ext string) bool {
	if !strings.HasPrefix(p, ext) || len(p) == len(ext) {
		return false
	}
	rest := p[len(ext):]
	return rest[0] >= '0' && rest[0] <= '9'
}

// CheckRISCVProfile refuses a riscv64 root file system whose programs need
// the vector extension (images built for the RVA23 profile, e.g. Ubuntu
// 25.10 and later): the emulator implements RV64GC. It reads the ISA string
// the compiler recorded in the ELF attributes of the programs the container
// starts with (entrypoint or cmd, resolved through the image's PATH), the
// shell and the C library.
func CheckRISCVProfile(tree *rootfs.Tree, cfg *v1.Config, what string) error {
	for _, p := range profileProbes(tree, cfg) {
		ino := tree.Lookup(p)
		if ino == nil || !ino.IsRegular() || ino.Size < 64 {
			continue
		}
		r, err := tree.Content(ino)
		if err != nil {
			return err
		}
		var magic [4]byte
		if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
			continue
		}
		arch, err := riscvArch(r)
		if err != nil || arch == "" {
			continue // not a RISC-V program, or one that records no ISA
		}
		if needsVector(arch) {
			return fmt.Errorf("%s: %s is built for %s, which needs the RISC-V vector extension (RVA23 profile); the emulator implements RV64GC only — use an image built for plain riscv64 (e.g. Debian trixie or Ubuntu 24.04)", what, p, arch)
		}
	}
	return nil
}

// profileProbes lists the files CheckRISCVProfile inspects.
func profileProbes(tree *rootfs.Tree, cfg *v1.Config) []string {
	probes := []string{"/bin/sh", "/usr/lib/riscv64-linux-gnu/libc.so.6", "/lib/ld-musl-riscv64.so.1"}
	var argv0 string
	if cfg != nil {
		if len(cfg.Entrypoint) > 0 {
			argv0 = cfg.Entrypoint[0]
		} else if len(cfg.Cmd) > 0 {
			argv0 = cfg.Cmd[0]
		}
	}
	if argv0 == "" {
		return probes
	}
	if strings.Contains(argv0, "/") {
		return append([]string{argv0}, probes...)
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range cfg.Env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[len("PATH="):]
		}
	}
	for _, dir := range strings.Split(path, ":") {
		if ino := tree.Lookup(dir + "/" + argv0); ino != nil && ino.IsRegular() {
			return append([]string{dir + "/" + argv0}, probes...)
		}
	}
	return probes
}
