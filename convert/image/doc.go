// Package image is the converter's image intake: it turns a reference as a
// docker or nerdctl user types it (or a local OCI layout, OCI archive or
// docker archive) into one verified, platform-selected image whose layers can
// be streamed as verified tar streams.
//
// Registry access, manifests, authentication (the docker keychain, credential
// helpers) and the on-disk formats come from go-containerregistry, the
// well-kept library the container ecosystem already trusts for this; this
// package adds what converting needs on top: docker-style reference display,
// platform selection with an error that lists what an index offers, digest
// checks of every manifest and config read from local stores, and layer
// streams verified against both their digest and their diffID
// (convert/layer).
package image
