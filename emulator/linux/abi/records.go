package abi

import "encoding/binary"

// Stat is the kernel-independent content of struct stat and statx.
type Stat struct {
	Dev       uint64
	Ino       uint64
	Mode      uint32
	Nlink     uint32
	UID       uint32
	GID       uint32
	Rdev      uint64
	Size      int64
	Blksize   int32
	Blocks    int64
	AtimeSec  int64
	AtimeNsec int64
	MtimeSec  int64
	MtimeNsec int64
	CtimeSec  int64
	CtimeNsec int64
}

// StatSize is the size of the asm-generic struct stat (riscv64, arm64).
const StatSize = 128

// PutGenericStat encodes st as the asm-generic struct stat into b, which
// must be StatSize bytes long.
func PutGenericStat(b []byte, st *Stat) {
	le := binary.LittleEndian
	clear(b[:StatSize])
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint32(b[16:], st.Mode)
	le.PutUint32(b[20:], st.Nlink)
	le.PutUint32(b[24:], st.UID)
	le.PutUint32(b[28:], st.GID)
	le.PutUint64(b[32:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint32(b[56:], uint32(st.Blksize))
	putStatBlocksTimes(b, st)
}

// putStatBlocksTimes encodes st_blocks and the three timestamps, which
// both layouts of struct stat place at offsets 64 to 119.
func putStatBlocksTimes(b []byte, st *Stat) {
	le := binary.LittleEndian
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.AtimeSec))
	le.PutUint64(b[80:], uint64(st.AtimeNsec))
	le.PutUint64(b[88:], uint64(st.MtimeSec))
	le.PutUint64(b[96:], uint64(st.MtimeNsec))
	le.PutUint64(b[104:], uint64(st.CtimeSec))
	le.PutUint64(b[112:], uint64(st.CtimeNsec))
}

// X86StatSize is the size of x86-64's struct stat.
const X86StatSize = 144

// PutX86Stat encodes st as x86-64's struct stat (arch/x86/include/uapi/
// asm/stat.h: a 64-bit st_nlink before st_mode, a 64-bit st_blksize) into
// b, which must be X86StatSize bytes long.
func PutX86Stat(b []byte, st *Stat) {
	le := binary.LittleEndian
	clear(b[:X86StatSize])
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], uint64(st.Nlink))
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.UID)
	le.PutUint32(b[32:], st.GID)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], uint64(st.Blksize))
	putStatBlocksTimes(b, st)
}

// StatxSize is the size of struct statx.
const StatxSize = 256

// statx mask bits.
const (
	STATX_BASIC_STATS = 0x7ff
)

// PutStatx encodes st as struct statx into b (StatxSize bytes).
func PutStatx(b []byte, st *Stat) {
	le := binary.LittleEndian
	clear(b[:StatxSize])
	le.PutUint32(b[0:], STATX_BASIC_STATS)
	le.PutUint32(b[4:], uint32(st.Blksize))
	le.PutUint32(b[16:], st.Nlink)
	le.PutUint32(b[20:], st.UID)
	le.PutUint32(b[24:], st.GID)
	binary.LittleEndian.PutUint16(b[28:], uint16(st.Mode))
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], uint64(st.Size))
	le.PutUint64(b[48:], uint64(st.Blocks))
	putTS := func(off int, sec, nsec int64) {
		le.PutUint64(b[off:], uint64(sec))
		le.PutUint32(b[off+8:], uint32(nsec))
	}
	putTS(64, st.AtimeSec, st.AtimeNsec)
	putTS(80, st.CtimeSec, st.CtimeNsec) // stx_btime
	putTS(96, st.CtimeSec, st.CtimeNsec)
	putTS(112, st.MtimeSec, st.MtimeNsec)
	le.PutUint32(b[128:], uint32(st.Rdev>>8&0xfff))
	le.PutUint32(b[132:], uint32(st.Rdev&0xff))
	le.PutUint32(b[136:], uint32(st.Dev>>8&0xfff))
	le.PutUint32(b[140:], uint32(st.Dev&0xff))
}

// AppendDirent64 appends one struct linux_dirent64 record to b. off is the
// value a later lseek or getdents resumes from.
func AppendDirent64(b []byte, ino uint64, off int64, typ uint8, name string) []byte {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	var hdr [19]byte
	binary.LittleEndian.PutUint64(hdr[0:], ino)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(off))
	binary.LittleEndian.PutUint16(hdr[16:], uint16(reclen))
	hdr[18] = typ
	b = append(b, hdr[:]...)
	b = append(b, name...)
	for i := 19 + len(name); i < reclen; i++ {
		b = append(b, 0)
	}
	return b
}

// Dirent64Len returns the record length of a linux_dirent64 for name.
func Dirent64Len(name string) int { return (19 + len(name) + 1 + 7) &^ 7 }

// Makedev encodes a device number the way glibc's makedev does.
func Makedev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}
