package layer

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

func sha256Of(b []byte) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}
}

// sampleTar returns a small tar archive with a few files.
func sampleTar(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, body := range []string{"hello\n", strings.Repeat("compressible ", 5000), ""} {
		hdr := &tar.Header{Name: fmt.Sprintf("dir/file%d", i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipStd compresses with the standard library, an implementation independent
// of the decoder under test.
func gzipStd(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := stdgzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdEncode(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// readAllAndClose reads the layer like a tar consumer would (to the end) and
// closes it, returning the bytes and the first error seen.
func readAllAndClose(r *Reader) ([]byte, error) {
	got, readErr := io.ReadAll(r)
	closeErr := r.Close()
	if readErr != nil {
		return got, readErr
	}
	return got, closeErr
}

func TestDecodeFormats(t *testing.T) {
	plain := sampleTar(t)
	cases := []struct {
		name      string
		blob      []byte
		mediaType types.MediaType
		want      Compression
		mismatch  string // what MediaTypeMismatch must say, if anything
	}{
		{"uncompressed", plain, types.OCIUncompressedLayer, Uncompressed, ""},
		{"gzip", gzipStd(t, plain), types.OCILayer, Gzip, ""},
		{"gzip multi-member", append(gzipStd(t, plain[:1000]), gzipStd(t, plain[1000:])...), types.DockerLayer, Gzip, ""},
		{"zstd", zstdEncode(t, plain), types.OCILayerZStd, Zstd, ""},
		// The media type is a hint only: the bytes decide.
		{"gzip under a zstd media type", gzipStd(t, plain), types.OCILayerZStd, Gzip,
			"media type application/vnd.oci.image.layer.v1.tar+zstd names zstd but the blob is gzip; decoding it as gzip"},
		{"uncompressed under a gzip media type", plain, types.DockerLayer, Uncompressed, "names gzip but the blob is uncompressed"},
		{"no media type", zstdEncode(t, plain), "", Zstd, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desc := Descriptor{Digest: sha256Of(tc.blob), DiffID: sha256Of(plain), MediaType: tc.mediaType, Size: int64(len(tc.blob))}
			r, err := Decode(bytes.NewReader(tc.blob), desc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Compression() != tc.want {
				t.Errorf("Compression() = %v, want %v", r.Compression(), tc.want)
			}
			mismatch := r.MediaTypeMismatch()
			if tc.mismatch == "" && mismatch != "" || !strings.Contains(mismatch, tc.mismatch) {
				t.Errorf("MediaTypeMismatch() = %q, want %q", mismatch, tc.mismatch)
			}
			got, err := readAllAndClose(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decoded %d bytes, want the %d-byte tar", len(got), len(plain))
			}
			if r.UncompressedSize() != int64(len(plain)) {
				t.Errorf("UncompressedSize() = %d, want %d", r.UncompressedSize(), len(plain))
			}
		})
	}
}

// TestDecodeZstdCLI decodes what the reference zstd tool produced (including
// its long-window mode), an encoder independent of the decoder.
func TestDecodeZstdCLI(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd tool not installed (Debian package zstd)")
	}
	plain := sampleTar(t)
	for _, args := range [][]string{{"-3"}, {"-19", "--long=27"}} {
		cmd := exec.Command("zstd", append(args, "-c", "-q")...)
		cmd.Stdin = bytes.NewReader(plain)
		blob, err := cmd.Output()
		if err != nil {
			t.Fatalf("zstd %v: %v", args, err)
		}
		r, err := Decode(bytes.NewReader(blob), Descriptor{Digest: sha256Of(blob), DiffID: sha256Of(plain)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAllAndClose(r)
		if err != nil {
			t.Fatalf("zstd %v: %v", args, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("zstd %v: decoded bytes differ", args)
		}
	}
}

func TestDecodeSHA512(t *testing.T) {
	plain := sampleTar(t)
	blob := gzipStd(t, plain)
	h := func(b []byte) v1.Hash { return v1.Hash{Algorithm: "sha512", Hex: fmt.Sprintf("%x", sha512.Sum512(b))} }
	r, err := Decode(bytes.NewReader(blob), Descriptor{Digest: h(blob), DiffID: h(plain)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAllAndClose(r); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeVerificationFailures(t *testing.T) {
	plain := sampleTar(t)
	gz := gzipStd(t, plain)
	otherTar := append([]byte(nil), plain...)
	otherTar[600] ^= 1 // inside the first file's content: still a valid tar
	digest := sha256Of(gz)
	const name = "layer sha256:"

	cases := []struct {
		name    string
		blob    []byte
		desc    Descriptor
		is      error
		message string
	}{
		{"digest mismatch", gz, Descriptor{Digest: sha256Of([]byte("something else"))}, ErrDigestMismatch,
			"digest mismatch: the blob hashes to " + digest.String()},
		{"diffID mismatch", gz, Descriptor{Digest: digest, DiffID: sha256Of(otherTar)}, ErrDiffIDMismatch,
			"diffID mismatch: the uncompressed tar hashes to " + sha256Of(plain).String()},
		{"diffID mismatch, uncompressed blob", plain, Descriptor{Digest: sha256Of(plain), DiffID: sha256Of(otherTar)}, ErrDiffIDMismatch,
			"diffID mismatch: the uncompressed tar hashes to " + sha256Of(plain).String()},
		{"tampered uncompressed content", gzipStd(t, otherTar), Descriptor{Digest: sha256Of(gzipStd(t, otherTar)), DiffID: sha256Of(plain)}, ErrDiffIDMismatch, "diffID mismatch"},
		{"blob shorter than declared", gz, Descriptor{Digest: digest, Size: int64(len(gz)) + 10}, ErrSizeMismatch,
			fmt.Sprintf("the blob has %d bytes, the manifest says %d", len(gz), len(gz)+10)},
		{"blob longer than declared", gz, Descriptor{Digest: digest, Size: int64(len(gz)) - 10}, ErrSizeMismatch,
			fmt.Sprintf("the blob is longer than the %d bytes the manifest says", len(gz)-10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A small blob may fail already in Decode, which sniffs its head.
			r, err := Decode(bytes.NewReader(tc.blob), tc.desc, Options{})
			if err == nil {
				_, err = readAllAndClose(r)
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), name) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q does not name the layer and say %q", err, tc.message)
			}
			// Close keeps reporting the failure.
			if r == nil {
				return
			}
			if err2 := r.Close(); !errors.Is(err2, tc.is) {
				t.Fatalf("second Close: %v", err2)
			}
		})
	}
}

// TestTrailingBytesAreVerified reads the tar only up to its end-of-archive
// marker, as a tar consumer does, and relies on Close to hash the rest.
func TestTrailingBytesAreVerified(t *testing.T) {
	plain := sampleTar(t)
	withGarbage := append(append([]byte(nil), plain...), []byte("smuggled bytes after the end of the archive")...)
	for _, tc := range []struct {
		name   string
		blob   []byte
		digest v1.Hash
		ok     bool
	}{
		{"garbage not covered by the digest", withGarbage, sha256Of(plain), false},
		{"garbage covered by the digest", withGarbage, sha256Of(withGarbage), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode(bytes.NewReader(tc.blob), Descriptor{Digest: tc.digest}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(r)
			for {
				if _, err := tr.Next(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			err = r.Close()
			if tc.ok && err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("Close: %v, want a digest mismatch", err)
			}
		})
	}
}

func TestCorruptStreams(t *testing.T) {
	plain := sampleTar(t)
	gz := gzipStd(t, plain)
	zs := zstdEncode(t, plain)

	badHeader := append([]byte(nil), gz...)
	badHeader[2] = 7 // compression method other than deflate
	flippedGzip := append([]byte(nil), gz...)
	flippedGzip[len(flippedGzip)/2] ^= 0xff
	badCRC := append([]byte(nil), gz...)
	badCRC[len(badCRC)-6] ^= 0xff // inside the CRC-32 trailer
	flippedZstd := append([]byte(nil), zs...)
	flippedZstd[len(flippedZstd)/2] ^= 0xff
	badZstdHeader := append([]byte(nil), zs...)
	badZstdHeader[4] = 0xff // frame header descriptor with the reserved bit set

	cases := []struct {
		name    string
		blob    []byte
		message string // the error must contain it
	}{
		{"gzip invalid header", badHeader, "gzip: invalid header"},
		{"gzip corrupt deflate data", flippedGzip, "gzip: "},
		{"gzip checksum", badCRC, "gzip: invalid checksum"},
		{"gzip truncated", gz[:len(gz)/2], "gzip: unexpected EOF"},
		{"gzip truncated in header", gz[:5], "gzip: unexpected EOF"},
		{"gzip trailing garbage", append(append([]byte(nil), gz...), "junk after the gzip stream"...), "gzip: invalid header"},
		{"zstd corrupt block", flippedZstd, "zstd: "},
		{"zstd bad frame header", badZstdHeader, "zstd: "},
		{"zstd truncated", zs[:len(zs)/2], "zstd: unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := "layer " + sha256Of(tc.blob).String() + ": "
			r, err := Decode(bytes.NewReader(tc.blob), Descriptor{Digest: sha256Of(tc.blob)}, Options{})
			if err == nil {
				_, err = readAllAndClose(r)
			}
			if err == nil {
				t.Fatal("corrupt stream decoded without error")
			}
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %q, want %q…%q", err, want, tc.message)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	const budget = 1 << 20
	exact := bytes.Repeat([]byte{'x'}, budget)
	over := bytes.Repeat([]byte{'x'}, budget+1)
	bomb := gzipStd(t, make([]byte, 64<<20)) // 64 MiB of zeros in ~64 KiB

	for _, tc := range []struct {
		name string
		blob []byte
		ok   bool
	}{
		{"exactly the budget, uncompressed", exact, true},
		{"exactly the budget, gzip", gzipStd(t, exact), true},
		{"one byte over, uncompressed", over, false},
		{"one byte over, zstd", zstdEncode(t, over), false},
		{"gzip bomb", bomb, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Decode(bytes.NewReader(tc.blob), Descriptor{Digest: sha256Of(tc.blob)}, Options{MaxSize: budget, MaxSizeSetting: "--max-size"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAllAndClose(r)
			if tc.ok {
				if err != nil || len(got) != budget {
					t.Fatalf("read %d bytes, err %v", len(got), err)
				}
				return
			}
			var be *BudgetError
			if !errors.As(err, &be) || be.Limit != budget {
				t.Fatalf("error %v, want a BudgetError", err)
			}
			want := "layer " + sha256Of(tc.blob).String() + ": uncompressed size exceeds the 1 MiB budget (--max-size)"
			if err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if r.UncompressedSize() > budget+64<<10 {
				t.Fatalf("decoded %d bytes before stopping; the budget is %d", r.UncompressedSize(), budget)
			}
		})
	}
}

func TestUnsupportedFormats(t *testing.T) {
	xz := []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0, 0, 0, 0, 0, 0}
	bz := []byte("BZh91AY&SY\x00\x00\x00\x00")
	for _, tc := range []struct {
		name    string
		blob    []byte
		mt      types.MediaType
		message string
	}{
		{"xz", xz, "", "the blob is xz-compressed"},
		{"bzip2", bz, "", "the blob is bzip2-compressed"},
		{"encrypted media type", sampleTar(t), "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "is not a tar layer"},
		{"config media type", sampleTar(t), types.OCIConfigJSON, "is not a tar layer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.blob), Descriptor{Digest: sha256Of(tc.blob), MediaType: tc.mt}, Options{})
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %v, want %q", err, tc.message)
			}
		})
	}
	if _, err := Decode(bytes.NewReader(nil), Descriptor{Digest: v1.Hash{Algorithm: "md5", Hex: "00"}}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "unsupported hash") {
		t.Fatalf("md5 digest: %v", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestSourceErrorsAreNotBlamedOnTheStream(t *testing.T) {
	plain := sampleTar(t)
	gz := gzipStd(t, plain)
	netErr := errors.New("connection reset by peer")
	r, err := Decode(&failingReader{data: gz[:len(gz)/2], err: netErr}, Descriptor{Digest: sha256Of(gz)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAllAndClose(r)
	if !errors.Is(err, netErr) || !strings.Contains(err.Error(), "reading blob: connection reset") {
		t.Fatalf("error %v, want the source's error", err)
	}
}

func TestReadAfterClose(t *testing.T) {
	plain := sampleTar(t)
	r, err := Decode(bytes.NewReader(plain), Descriptor{Digest: sha256Of(plain)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close without reading must drain and verify: %v", err)
	}
	if _, err := r.Read(make([]byte, 10)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB", 64 << 20: "64 MiB",
		8 << 30: "8 GiB", 1 << 40: "1 TiB", 1<<62 + 1<<61: "6 EiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzDecode feeds arbitrary blobs through Decode: it must never panic and
// must stop at the budget.
func FuzzDecode(f *testing.F) {
	plain := sampleTar(f)
	f.Add(plain)
	f.Add(gzipStd(f, plain))
	f.Add(zstdEncode(f, plain))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Fuzz(func(t *testing.T, blob []byte) {
		const budget = 1 << 20
		r, err := Decode(bytes.NewReader(blob), Descriptor{Digest: sha256Of(blob), Size: int64(len(blob))}, Options{MaxSize: budget})
		if err != nil {
			return
		}
		got, err := readAllAndClose(r)
		if len(got) > budget {
			t.Fatalf("read %d bytes past the %d budget", len(got), budget)
		}
		if err == nil && r.Compression() == Uncompressed && !bytes.Equal(got, blob) {
			t.Fatal("uncompressed blob not passed through verbatim")
		}
	})
}
