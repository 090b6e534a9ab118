// Package ctrtest runs a real containerd (Debian's containerd package) for
// tests: a private instance with its own root, state and sockets under a
// temporary directory, the shim under test first in its PATH, driven with
// ctr. It also builds the single-layer images the tests import.
package ctrtest
