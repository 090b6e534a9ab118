package runtime

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/moby/sys/mountinfo"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/wasmrt/wasmrt/runtime/cgroup"
	"github.com/wasmrt/wasmrt/runtime/internal/hooks"
	"github.com/wasmrt/wasmrt/runtime/internal/linux"
)

// State is the `state` document: the spec's state plus what runc adds.
type State struct {
	specs.State
	Rootfs     string    `json:"rootfs"`
	Created    time.Time `json:"created"`
	Owner      string    `json:"owner"`
	ExitStatus *int      `json:"exitStatus,omitempty"`
}

// status derives the live status from the record and the process.
func (rt *Runtime) status(r *Record) specs.ContainerState {
	if r.Spec == nil || (r.Status == specs.StateCreating && r.Pid == 0) {
		return specs.StateCreating
	}
	if r.Status == specs.StateStopped || !r.alive() {
		return specs.StateStopped
	}
	if r.Status == specs.StateCreating {
		return specs.StateCreating
	}
	if _, err := os.Stat(rt.Store.fifoPath(r.ID)); err == nil {
		return specs.StateCreated
	}
	if cg, err := cgroup.Load(r.CgroupPaths); err == nil && cg.Frozen() {
		return "paused"
	}
	return specs.StateRunning
}

func (r *Record) state(status specs.ContainerState) *State {
	return &State{State: *r.ociState(status), Rootfs: r.Rootfs, Created: r.Created, Owner: r.Owner, ExitStatus: r.ExitStatus}
}

// State returns a container's state.
func (rt *Runtime) State(id string) (*State, error) {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	return r.state(rt.status(r)), nil
}

// List returns the state of every container.
func (rt *Runtime) List() ([]*State, error) {
	ids, err := rt.Store.IDs()
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, id := range ids {
		s, err := rt.State(id)
		if errors.Is(err, ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Start releases a created container's init to run the user program and
// runs the poststart hooks.
func (rt *Runtime) Start(id string) error {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if st := rt.status(r); st != specs.StateCreated {
		return fmt.Errorf("start container %q: it is %s, not created: %w", id, st, ErrState)
	}
	if r.Spec.Process == nil {
		// Nothing to run: the spec requires an error, and the container
		// stops.
		_ = unix.Kill(r.Pid, unix.SIGKILL)
		waitGone(r.Pid, 10*time.Second)
		return fmt.Errorf("start container %q: config.json has no process to run", id)
	}
	if err := releaseFifo(rt.Store.fifoPath(id), r); err != nil {
		return fmt.Errorf("start container %q: %w", id, err)
	}
	rt.Log.Debug("container started", "id", id, "pid", r.Pid)
	r.Status = specs.StateRunning
	if err := rt.Store.write(r); err != nil {
		return err
	}
	if r.Spec.Hooks != nil {
		for _, err := range hooks.RunAll("poststart", r.Spec.Hooks.Poststart, r.ociState(specs.StateRunning)) {
			rt.Log.Warn("poststart hook failed", "id", id, "error", err)
		}
	}
	return nil
}

// releaseFifo opens the exec FIFO for reading, which lets the init's
// blocking open for writing complete, reads its byte, and then waits for
// end-of-file: the init keeps its end open close-on-exec, so EOF means the
// program was executed (or the init died). A dead init is noticed instead
// of blocking forever.
func releaseFifo(path string, r *Record) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 1)
	released := false
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("wait for init: %w", err)
		}
		if n > 0 {
			m, err := unix.Read(fd, buf)
			switch {
			case m == 1:
				released = true
				continue
			case m == 0 && err == nil && released:
				return os.Remove(path)
			case err != nil && err != unix.EAGAIN:
				return fmt.Errorf("read exec fifo: %w", err)
			}
		}
		if !r.alive() {
			if released {
				return os.Remove(path)
			}
			return errors.New("container init exited before start")
		}
	}
}

// Kill sends sig to the container's init, or with all to every process
// in its cgroup.
func (rt *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	st := rt.status(r)
	if st == specs.StateStopped || st == specs.StateCreating {
		return fmt.Errorf("kill container %q: it is %s: %w", id, st, ErrState)
	}
	if all {
		cg, err := cgroup.Load(r.CgroupPaths)
		if err != nil {
			return err
		}
		pids, err := cg.Pids()
		if err != nil {
			return fmt.Errorf("kill container %q: list processes: %w", id, err)
		}
		for _, p := range pids {
			if err := unix.Kill(p, sig); err != nil && err != unix.ESRCH {
				return fmt.Errorf("kill container %q: pid %d: %w", id, p, err)
			}
		}
		if sig == unix.SIGKILL && st == "paused" {
			_ = cg.Freeze(false)
		}
		return nil
	}
	if err := unix.Kill(r.Pid, sig); err != nil {
		return fmt.Errorf("kill container %q (pid %d): %w", id, r.Pid, err)
	}
	return nil
}

// Delete removes a container. A running or paused one is refused unless
// force, which kills it first.
func (rt *Runtime) Delete(id string, force bool) error {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	st := rt.status(r)
	switch st {
	case specs.StateRunning, "paused":
		if !force {
			return fmt.Errorf("delete container %q: it is %s; stop it first or use --force: %w", id, st, ErrState)
		}
	case specs.StateCreating:
		if !force {
			return fmt.Errorf("delete container %q: it is still being created; use --force if its create was interrupted: %w", id, ErrState)
		}
	}
	return rt.destroy(r)
}

// destroy kills whatever is left, removes the cgroup and state, and runs
// the poststop hooks.
func (rt *Runtime) destroy(r *Record) error {
	rt.Log.Debug("deleting container", "id", r.ID, "pid", r.Pid, "cgroup", r.CgroupPaths)
	if r.Pid > 0 && r.alive() {
		_ = unix.Kill(r.Pid, unix.SIGKILL)
		if !waitGone(r.Pid, 10*time.Second) {
			return fmt.Errorf("delete container %q: init %d did not die", r.ID, r.Pid)
		}
	}
	if len(r.CgroupPaths) > 0 && cgroup.Exists(r.CgroupPaths) {
		cg, err := cgroup.Load(r.CgroupPaths)
		if err != nil {
			return err
		}
		killCgroup(cg)
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("delete container %q: %w", r.ID, err)
		}
	}
	if r.Spec != nil && !linux.HasMountNamespace(r.Spec) && r.Rootfs != "" {
		if err := unmountUnder(r.Rootfs); err != nil {
			return fmt.Errorf("delete container %q: %w", r.ID, err)
		}
	}
	if r.Spec != nil {
		rt.runPoststop(r)
	}
	return rt.Store.remove(r.ID)
}

func (rt *Runtime) runPoststop(r *Record) {
	if r.Spec == nil || r.Spec.Hooks == nil {
		return
	}
	for _, err := range hooks.RunAll("poststop", r.Spec.Hooks.Poststop, r.ociState(specs.StateStopped)) {
		rt.Log.Warn("poststop hook failed", "id", r.ID, "error", err)
	}
}

func (rt *Runtime) liveCgroup(id string, allowed ...specs.ContainerState) (*Lock, *Record, *cgroup.Manager, error) {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return nil, nil, nil, err
	}
	st := rt.status(r)
	ok := len(allowed) == 0
	for _, a := range allowed {
		ok = ok || a == st
	}
	if !ok {
		lock.Unlock()
		return nil, nil, nil, fmt.Errorf("container %q is %s: %w", id, st, ErrState)
	}
	cg, err := cgroup.Load(r.CgroupPaths)
	if err != nil {
		lock.Unlock()
		return nil, nil, nil, err
	}
	return lock, r, cg, nil
}

// Pause freezes every process of a running container.
func (rt *Runtime) Pause(id string) error {
	lock, _, cg, err := rt.liveCgroup(id, specs.StateRunning, specs.StateCreated)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	return cg.Freeze(true)
}

// Resume thaws a paused container.
func (rt *Runtime) Resume(id string) error {
	lock, _, cg, err := rt.liveCgroup(id, "paused")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	return cg.Freeze(false)
}

// Update changes a live container's resource limits and records them.
func (rt *Runtime) Update(id string, res *specs.LinuxResources) error {
	lock, r, cg, err := rt.liveCgroup(id, specs.StateCreated, specs.StateRunning, "paused")
	if err != nil {
		return err
	}
	defer lock.Unlock()
	merged := mergeResources(r.Spec.Linux.Resources, res)
	if err := cg.Update(merged, r.Spec.Linux.Devices); err != nil {
		return err
	}
	r.Spec.Linux.Resources = merged
	return rt.Store.write(r)
}

// mergeResources overlays the fields set in upd onto cur.
func mergeResources(cur, upd *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if cur != nil {
		c := *cur
		out = &c
	}
	if upd.Memory != nil {
		m := specs.LinuxMemory{}
		if out.Memory != nil {
			m = *out.Memory
		}
		u := upd.Memory
		pick64(&m.Limit, u.Limit)
		pick64(&m.Reservation, u.Reservation)
		pick64(&m.Swap, u.Swap)
		pick64(&m.Kernel, u.Kernel)
		pick64(&m.KernelTCP, u.KernelTCP)
		if u.Swappiness != nil {
			m.Swappiness = u.Swappiness
		}
		out.Memory = &m
	}
	if upd.CPU != nil {
		c := specs.LinuxCPU{}
		if out.CPU != nil {
			c = *out.CPU
		}
		u := upd.CPU
		if u.Shares != nil {
			c.Shares = u.Shares
		}
		pick64(&c.Quota, u.Quota)
		if u.Period != nil {
			c.Period = u.Period
		}
		if u.Burst != nil {
			c.Burst = u.Burst
		}
		pick64(&c.RealtimeRuntime, u.RealtimeRuntime)
		if u.RealtimePeriod != nil {
			c.RealtimePeriod = u.RealtimePeriod
		}
		if u.Cpus != "" {
			c.Cpus = u.Cpus
		}
		if u.Mems != "" {
			c.Mems = u.Mems
		}
		if u.Idle != nil {
			c.Idle = u.Idle
		}
		out.CPU = &c
	}
	if upd.Pids != nil {
		out.Pids = upd.Pids
	}
	if upd.BlockIO != nil {
		out.BlockIO = upd.BlockIO
	}
	if upd.HugepageLimits != nil {
		out.HugepageLimits = upd.HugepageLimits
	}
	if upd.Unified != nil {
		out.Unified = upd.Unified
	}
	return out
}

func pick64(dst **int64, v *int64) {
	if v != nil {
		*dst = v
	}
}

// Pids lists the host pids of every process in the container.
func (rt *Runtime) Pids(id string) ([]int, error) {
	lock, _, cg, err := rt.liveCgroup(id)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	return cg.Pids()
}

// Stats returns the container's cgroup statistics.
func (rt *Runtime) Stats(id string) (*cgroups.Stats, error) {
	lock, _, cg, err := rt.liveCgroup(id, specs.StateCreated, specs.StateRunning, "paused")
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	return cg.Stats()
}

// OOMKills counts the container's processes the kernel's OOM killer
// killed so far; it works until the container is deleted.
func (rt *Runtime) OOMKills(id string) (uint64, error) {
	lock, _, cg, err := rt.liveCgroup(id)
	if err != nil {
		return 0, err
	}
	defer lock.Unlock()
	return cg.OOMKills()
}

// Spec returns the configuration a container was created with (including
// later updates).
func (rt *Runtime) Spec(id string) (*specs.Spec, error) {
	lock, r, err := rt.Store.open(id)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if r.Spec == nil {
		return nil, fmt.Errorf("container %q: %w", id, ErrState)
	}
	return r.Spec, nil
}

// unmountUnder detaches every mount below rootfs, deepest first: the
// mounts of a container that shared the runtime's mount namespace.
func unmountUnder(rootfs string) error {
	infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(rootfs))
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	sort.Slice(infos, func(i, j int) bool { return len(infos[i].Mountpoint) > len(infos[j].Mountpoint) })
	for _, m := range infos {
		if m.Mountpoint == rootfs {
			continue
		}
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			return fmt.Errorf("unmount %s: %w", m.Mountpoint, err)
		}
	}
	return nil
}
