// Package atomicfile writes files whole or not at all: c2w's outputs, the
// shim's module store and the bundles it rewrites.
package atomicfile
