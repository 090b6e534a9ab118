// Package emulator is the root of the user-mode Linux machine that runs inside
// converted WebAssembly modules (GOOS=wasip1). Its packages import nothing
// outside the Go standard library and each other, because they are compiled to
// wasip1 and embedded in every converted image.
package emulator
