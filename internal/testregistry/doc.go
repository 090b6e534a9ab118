// Package testregistry runs a real OCI distribution registry for tests:
// Debian's docker-registry (the CNCF distribution server) on a loopback
// port, storing blobs in the test's temporary directory, without TLS or
// authentication. Tests push and pull against it with their real client
// code instead of an in-process fake, so protocol details (chunked uploads,
// mounts, content types, digests) are checked against an independent
// implementation.
package testregistry
