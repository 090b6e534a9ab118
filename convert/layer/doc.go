// Package layer opens an image layer blob as a verified, size-bounded tar
// stream.
//
// A layer arrives as a compressed blob named by a digest in the image
// manifest; its uncompressed form is named by a diffID in the image config.
// Decode detects the compression from the blob's leading bytes (gzip, zstd or
// none; the media type must name a tar layer, but when its compression
// disagrees with the bytes the bytes win and MediaTypeMismatch says so), hashes
// the compressed and the uncompressed bytes while they stream, stops a
// decompression bomb once the uncompressed bytes exceed a budget, and reports
// any digest, diffID or size mismatch when the stream reaches its end or is
// closed. Every error names the layer by its digest. Decompression runs on
// a read-ahead goroutine so that it overlaps with the caller's tar parsing.
//
// Decompression uses github.com/klauspost/compress: its gzip reader is faster
// than the standard library's, and its zstd decoder lets us bound the window
// memory a hostile stream can demand.
package layer
