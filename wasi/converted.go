package wasi

import (
	"fmt"
	"strconv"
)

// Converted are the container settings a converted module takes as flags
// of its own, before the guest's command (see `OUT.wasm --help`).
type Converted struct {
	// Env holds NAME=VALUE entries set in the guest on top of the image's
	// environment.
	Env []string
	// Workdir, Hostname and User ("uid:gid", "uid" or a name resolved in
	// the image) are left to the image's defaults when empty.
	Workdir, Hostname, User string
	// GuestMemory is the budget of guest memory for all the guest's
	// processes together; 0 keeps the module's default.
	GuestMemory uint64
	// Command replaces the image's CMD and keeps its ENTRYPOINT, as the
	// arguments of `docker run IMAGE COMMAND...` do; empty keeps both.
	Command []string
	// Network gives the guest its way out (the module's --net): the host
	// must preopen the link's listening socket after any published ones
	// and serve it (package hostnet).
	Network bool
}

// Args is the argv that runs a converted module with these settings.
func (c Converted) Args(argv0 string) []string {
	args := []string{argv0}
	for _, kv := range c.Env {
		args = append(args, "--env", kv)
	}
	if c.Workdir != "" {
		args = append(args, "--workdir", c.Workdir)
	}
	if c.Hostname != "" {
		args = append(args, "--hostname", c.Hostname)
	}
	if c.User != "" {
		args = append(args, "--user", c.User)
	}
	if c.GuestMemory != 0 {
		args = append(args, "--memory", strconv.FormatUint(c.GuestMemory, 10))
	}
	if c.Network {
		args = append(args, "--net")
	}
	// "--" ends the module's flags, so a command starting with "-" is
	// the guest's.
	return append(append(args, "--"), c.Command...)
}

// minGuestMemory is the smallest guest budget worth starting a machine
// with: busybox's shell needs a few MiB.
const minGuestMemory = 16 << 20

// GuestMemoryFor is the guest memory budget a converted module gets under
// a cap of limit bytes of linear memory. The module's initial memory (the
// emulator and the embedded image) comes off first; guest pages live in
// the emulator's garbage-collected heap, which may grow to twice what is
// live before a collection, so the guest gets half of the rest.
func (m *Module) GuestMemoryFor(limit uint64) (uint64, error) {
	var guest uint64
	if limit > m.MinMemory {
		guest = (limit - m.MinMemory) / 2 &^ (1<<20 - 1)
	}
	if guest < minGuestMemory {
		return 0, fmt.Errorf("module %s: a memory limit of %s leaves its guest %s after the module's own %s; give it at least %s",
			m.Name, formatSize(limit), formatSize(guest), formatSize(m.MinMemory), formatSize(m.MinMemory+2*minGuestMemory))
	}
	return guest, nil
}
