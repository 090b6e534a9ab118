// Package wasmoci publishes converted modules through OCI registries and
// layouts, and reads them back. Two forms:
//
//   - the Wasm OCI artifact of the CNCF TAG-Runtime wasm working group: an
//     image manifest whose config is application/vnd.wasm.config.v0+json
//     (architecture wasm, os wasip1, the layer digests, created) and whose
//     one layer is the module itself, application/wasm;
//   - an ordinary OCI image (os wasip1, architecture wasm) whose one layer
//     holds the module at /module.wasm, its entrypoint, for runtimes that
//     pull only images (containerd 1.6's CRI).
//
// Both record the image the module was converted from in the manifest's
// annotations (org.opencontainers.image.source, base name and digest).
// Reading takes either form, checks the module's digest and that it is
// WebAssembly.
package wasmoci
