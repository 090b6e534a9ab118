package nsexec

// #cgo CFLAGS: -Wall -O2
import "C"

// EnvFD names the environment variable that carries the bootstrap socket's
// file descriptor number to the constructor.
const EnvFD = "WASMRT_NSEXEC_FD"
