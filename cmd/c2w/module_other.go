//go:build !linux

package main

import "os"

// readModule reads a module file.
func readModule(path string) ([]byte, error) { return os.ReadFile(path) }
