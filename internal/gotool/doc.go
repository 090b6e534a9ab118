// Package gotool builds command-line tools that tests use as independent
// peers (crictl, oras) from the Go module proxy, once per version, into
// the repository's .cache.
package gotool
