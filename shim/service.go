package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	eventsapi "github.com/containerd/containerd/api/events"
	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	runcopts "github.com/containerd/containerd/api/types/runc/options"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wasmrt/wasmrt/runtime"
)

// container is one task: its bundle, init and exec processes.
type container struct {
	id, bundle string
	init       *process
	// rootfsMounted says the shim mounted the snapshot at bundle/rootfs.
	rootfsMounted bool

	mu    sync.Mutex
	execs map[string]*process
}

func (c *container) exec(execID string) (*process, error) {
	if execID == "" {
		return c.init, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.execs[execID]
	if !ok {
		return nil, fmt.Errorf("exec %s of task %s: %w", execID, c.id, errdefs.ErrNotFound)
	}
	return p, nil
}

// service implements containerd's task service over the runtime.
type service struct {
	rt     *runtime.Runtime
	pub    *publisher
	log    *slog.Logger
	reaper *reaper
	// shutdown ends the daemon.
	shutdown func()
	// containerd is the GRPC address of the containerd that started the
	// shim and namespace its namespace: where images are looked up.
	containerd, namespace string

	mu         sync.Mutex
	containers map[string]*container

	oomMu   sync.Mutex
	oomSeen map[string]uint64
}

var _ taskapi.TaskService = (*service)(nil)

func newService(ctx context.Context, rt *runtime.Runtime, pub *publisher, log *slog.Logger, shutdown func()) *service {
	s := &service{rt: rt, pub: pub, log: log, shutdown: shutdown, containers: map[string]*container{}, oomSeen: map[string]uint64{}}
	s.reaper = newReaper(s.exited)
	go s.reaper.run(ctx)
	go s.watchOOM(ctx)
	return s
}

// wrap converts an error to a ttrpc status at the service edge.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	return errgrpc.ToGRPC(err)
}

func (s *service) container(id string) (*container, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, fmt.Errorf("task %s: %w", id, errdefs.ErrNotFound)
	}
	return c, nil
}

func (s *service) process(id, execID string) (*container, *process, error) {
	c, err := s.container(id)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.exec(execID)
	return c, p, err
}

// exited is the reaper's report of pid's exit.
func (s *service) exited(pid, status int) {
	now := time.Now()
	type owner struct {
		c *container
		p *process
	}
	var owners []owner
	s.mu.Lock()
	for _, c := range s.containers {
		if _, ppid, _, _ := c.init.current(); ppid == pid {
			owners = append(owners, owner{c, c.init})
		}
		c.mu.Lock()
		for _, e := range c.execs {
			if _, epid, _, _ := e.current(); epid == pid {
				owners = append(owners, owner{c, e})
			}
		}
		c.mu.Unlock()
	}
	s.mu.Unlock()
	for _, o := range owners {
		if !o.p.exit(status, now) {
			continue
		}
		s.log.Debug("process exited", "task", o.c.id, "exec", o.p.execID, "pid", pid, "status", status)
		id := o.p.execID
		if id == "" {
			id = o.c.id
			s.checkOOM(o.c.id)
		}
		s.pub.publish(topicExit, &eventsapi.TaskExit{
			ContainerID: o.c.id, ID: id, Pid: uint32(pid), ExitStatus: uint32(status), ExitedAt: timestamppb.New(now),
		})
	}
}

// Create mounts the root filesystem, connects the standard streams and
// creates the container.
func (s *service) Create(ctx context.Context, r *taskapi.CreateTaskRequest) (_ *taskapi.CreateTaskResponse, err error) {
	if r.Checkpoint != "" || r.ParentCheckpoint != "" {
		return nil, wrap(fmt.Errorf("task %s: restoring from a checkpoint: %w", r.ID, errdefs.ErrNotImplemented))
	}
	s.mu.Lock()
	if _, ok := s.containers[r.ID]; ok {
		s.mu.Unlock()
		return nil, wrap(fmt.Errorf("task %s: %w", r.ID, errdefs.ErrAlreadyExists))
	}
	c := &container{id: r.ID, bundle: r.Bundle, execs: map[string]*process{}}
	c.init = newProcess("", stdioPaths{r.Stdin, r.Stdout, r.Stderr, r.Terminal}, nil)
	// Reserve the id while creating.
	s.containers[r.ID] = c
	s.mu.Unlock()
	defer func() {
		if err != nil {
			s.mu.Lock()
			delete(s.containers, r.ID)
			s.mu.Unlock()
		}
	}()
	rootfs := filepath.Join(r.Bundle, "rootfs")
	if len(r.Rootfs) > 0 {
		mounts := make([]specs.Mount, len(r.Rootfs))
		for i, m := range r.Rootfs {
			mounts[i] = specs.Mount{Type: m.Type, Source: m.Source, Options: m.Options}
		}
		if err := os.MkdirAll(rootfs, 0o711); err != nil {
			return nil, wrap(err)
		}
		if err := runtime.MountRootfs(rootfs, mounts); err != nil {
			_ = runtime.UnmountRootfs(rootfs)
			return nil, wrap(fmt.Errorf("task %s: %w", r.ID, err))
		}
		c.rootfsMounted = true
		defer func() {
			if err != nil {
				_ = runtime.UnmountRootfs(rootfs)
			}
		}()
	}
	if err := prepareArtifact(ctx, s.containerd, s.namespace, r.ID, r.Bundle); err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", r.ID, err))
	}
	pio, err := newProcessIO(c.init.stdio)
	if err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", r.ID, err))
	}
	c.init.io = pio
	opts := runtime.CreateOptions{Bundle: r.Bundle, Stdio: pio.child, ConsoleSocket: pio.consoleSocket}
	var pid int
	err = s.reaper.starting(func() error {
		if err := s.rt.Create(r.ID, opts); err != nil {
			return err
		}
		// Known before the reaper runs again, so its exit is not missed.
		st, err := s.rt.State(r.ID)
		if err != nil {
			return err
		}
		pid = st.Pid
		c.init.mu.Lock()
		c.init.pid = pid
		c.init.mu.Unlock()
		return nil
	})
	if err == nil {
		err = pio.started(c.init.stdio)
	}
	if err != nil {
		pio.close()
		_ = s.rt.Delete(r.ID, true)
		return nil, wrap(fmt.Errorf("task %s: %w", r.ID, err))
	}
	s.pub.publish(topicCreate, &eventsapi.TaskCreate{
		ContainerID: r.ID, Bundle: r.Bundle, Rootfs: r.Rootfs, Pid: uint32(pid),
		IO: &eventsapi.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal},
	})
	return &taskapi.CreateTaskResponse{Pid: uint32(pid)}, nil
}

// Start starts the init, or runs an exec process.
func (s *service) Start(ctx context.Context, r *taskapi.StartRequest) (*taskapi.StartResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	if err := p.require(c.id, "start", stateCreated); err != nil {
		return nil, wrap(err)
	}
	if p.execID == "" {
		if err := s.rt.Start(c.id); err != nil {
			return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
		}
		_, pid, _, _ := p.current()
		p.started(pid)
		s.pub.publish(topicStart, &eventsapi.TaskStart{ContainerID: c.id, Pid: uint32(pid)})
		return &taskapi.StartResponse{Pid: uint32(pid)}, nil
	}
	if err := c.init.require(c.id, "exec in", stateRunning); err != nil {
		return nil, wrap(err)
	}
	pio, err := newProcessIO(p.stdio)
	if err != nil {
		return nil, wrap(fmt.Errorf("%s: %w", p.name(c.id), err))
	}
	p.mu.Lock()
	p.io = pio
	p.mu.Unlock()
	p.spec.Terminal = p.stdio.terminal
	opts := runtime.ExecOptions{
		Stdio: pio.child, Process: p.spec, ConsoleSocket: pio.consoleSocket, Detach: true,
		Started: p.started,
	}
	err = s.reaper.starting(func() error {
		_, err := s.rt.Exec(c.id, opts)
		return err
	})
	if err == nil {
		err = pio.started(p.stdio)
	}
	if err != nil {
		pio.close()
		p.exit(exitStartFailed, time.Now())
		return nil, wrap(fmt.Errorf("%s: %w", p.name(c.id), err))
	}
	_, pid, _, _ := p.current()
	s.pub.publish(topicExecStarted, &eventsapi.TaskExecStarted{ContainerID: c.id, ExecID: p.execID, Pid: uint32(pid)})
	return &taskapi.StartResponse{Pid: uint32(pid)}, nil
}

// exitStartFailed is the status of an exec process that could not start,
// as a shell reports a command it cannot execute.
const exitStartFailed = 126

// Delete removes an exec process, or the container once its init exited.
func (s *service) Delete(ctx context.Context, r *taskapi.DeleteRequest) (*taskapi.DeleteResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	if err := p.require(c.id, "delete", stateCreated, stateStopped); err != nil {
		return nil, wrap(err)
	}
	st, pid, status, at := p.current()
	if st == stateCreated && p.execID != "" {
		p.exit(0, time.Now())
		_, pid, status, at = p.current()
	}
	if p.execID != "" {
		c.mu.Lock()
		delete(c.execs, p.execID)
		c.mu.Unlock()
		if p.io != nil {
			p.io.close()
		}
		return &taskapi.DeleteResponse{Pid: uint32(pid), ExitStatus: uint32(status), ExitedAt: timestamppb.New(at)}, nil
	}
	if err := s.rt.Delete(c.id, st == stateCreated); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	if st == stateCreated {
		// Never started: it ends now, killed by the delete.
		p.exit(128+int(unix.SIGKILL), time.Now())
		_, pid, status, at = p.current()
	}
	if c.init.io != nil {
		c.init.io.close()
	}
	if c.rootfsMounted {
		if err := runtime.UnmountRootfs(filepath.Join(c.bundle, "rootfs")); err != nil {
			s.log.Warn("unmount rootfs", "task", c.id, "error", err)
		}
	}
	s.mu.Lock()
	delete(s.containers, c.id)
	s.mu.Unlock()
	s.oomMu.Lock()
	delete(s.oomSeen, c.id)
	s.oomMu.Unlock()
	s.pub.publish(topicDelete, &eventsapi.TaskDelete{
		ContainerID: c.id, ID: c.id, Pid: uint32(pid), ExitStatus: uint32(status), ExitedAt: timestamppb.New(at),
	})
	return &taskapi.DeleteResponse{Pid: uint32(pid), ExitStatus: uint32(status), ExitedAt: timestamppb.New(at)}, nil
}

// State reports a process's state.
func (s *service) State(ctx context.Context, r *taskapi.StateRequest) (*taskapi.StateResponse, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	st, pid, status, at := p.current()
	resp := &taskapi.StateResponse{
		ID: c.id, Bundle: c.bundle, Pid: uint32(pid), ExecID: p.execID,
		Stdin: p.stdio.stdin, Stdout: p.stdio.stdout, Stderr: p.stdio.stderr, Terminal: p.stdio.terminal,
	}
	switch st {
	case stateCreated:
		resp.Status = tasktypes.Status_CREATED
	case stateRunning:
		resp.Status = tasktypes.Status_RUNNING
		if rs, err := s.rt.State(c.id); err == nil && rs.Status == "paused" {
			resp.Status = tasktypes.Status_PAUSED
		}
	case stateStopped:
		resp.Status = tasktypes.Status_STOPPED
		resp.ExitStatus, resp.ExitedAt = uint32(status), timestamppb.New(at)
	}
	return resp, nil
}

// Pids lists the container's processes, naming the exec ones.
func (s *service) Pids(ctx context.Context, r *taskapi.PidsRequest) (*taskapi.PidsResponse, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	pids, err := s.rt.Pids(c.id)
	if err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	execOf := map[int]string{}
	c.mu.Lock()
	for id, e := range c.execs {
		if _, pid, _, _ := e.current(); pid != 0 {
			execOf[pid] = id
		}
	}
	c.mu.Unlock()
	resp := &taskapi.PidsResponse{}
	for _, pid := range pids {
		info := &tasktypes.ProcessInfo{Pid: uint32(pid)}
		if id, ok := execOf[pid]; ok {
			if a, err := processDetails(id); err == nil {
				info.Info = a
			}
		}
		resp.Processes = append(resp.Processes, info)
	}
	return resp, nil
}

func (s *service) Pause(ctx context.Context, r *taskapi.PauseRequest) (*emptypb.Empty, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	if err := c.init.require(c.id, "pause", stateRunning); err != nil {
		return nil, wrap(err)
	}
	if err := s.rt.Pause(c.id); err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	s.pub.publish(topicPaused, &eventsapi.TaskPaused{ContainerID: c.id})
	return &emptypb.Empty{}, nil
}

func (s *service) Resume(ctx context.Context, r *taskapi.ResumeRequest) (*emptypb.Empty, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	if err := c.init.require(c.id, "resume", stateRunning); err != nil {
		return nil, wrap(err)
	}
	if err := s.rt.Resume(c.id); err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	s.pub.publish(topicResumed, &eventsapi.TaskResumed{ContainerID: c.id})
	return &emptypb.Empty{}, nil
}

func (s *service) Checkpoint(ctx context.Context, r *taskapi.CheckpointTaskRequest) (*emptypb.Empty, error) {
	return nil, wrap(fmt.Errorf("task %s: checkpoint is not supported by wasmrt: %w", r.ID, errdefs.ErrNotImplemented))
}

// Kill signals the init (and with All every process of the container), or
// an exec process.
func (s *service) Kill(ctx context.Context, r *taskapi.KillRequest) (*emptypb.Empty, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	sig := unix.Signal(r.Signal)
	if p.execID == "" {
		if err := s.rt.Kill(c.id, sig, r.All); err != nil {
			if st, _, _, _ := p.current(); st == stateStopped {
				return nil, wrap(fmt.Errorf("task %s: %w", c.id, errdefs.ErrNotFound))
			}
			return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
		}
		return &emptypb.Empty{}, nil
	}
	st, pid, _, _ := p.current()
	if st != stateRunning || pid == 0 {
		return nil, wrap(fmt.Errorf("%s: not running: %w", p.name(c.id), errdefs.ErrNotFound))
	}
	if err := unix.Kill(pid, sig); err != nil {
		return nil, wrap(fmt.Errorf("%s: %w", p.name(c.id), err))
	}
	return &emptypb.Empty{}, nil
}

// Exec registers an exec process; Start runs it.
func (s *service) Exec(ctx context.Context, r *taskapi.ExecProcessRequest) (*emptypb.Empty, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	if err := c.init.require(c.id, "exec in", stateRunning); err != nil {
		return nil, wrap(err)
	}
	var spec specs.Process
	if r.Spec == nil || !strings.HasSuffix(r.Spec.TypeUrl, "Process") {
		return nil, wrap(fmt.Errorf("exec %s of task %s: spec: want a runtime-spec Process: %w", r.ExecID, c.id, errdefs.ErrInvalidArgument))
	}
	if err := json.Unmarshal(r.Spec.Value, &spec); err != nil {
		return nil, wrap(fmt.Errorf("exec %s of task %s: spec: %v: %w", r.ExecID, c.id, err, errdefs.ErrInvalidArgument))
	}
	if len(spec.Args) == 0 {
		return nil, wrap(fmt.Errorf("exec %s of task %s: spec.args is empty: %w", r.ExecID, c.id, errdefs.ErrInvalidArgument))
	}
	c.mu.Lock()
	if _, ok := c.execs[r.ExecID]; ok {
		c.mu.Unlock()
		return nil, wrap(fmt.Errorf("exec %s of task %s: %w", r.ExecID, c.id, errdefs.ErrAlreadyExists))
	}
	c.execs[r.ExecID] = newProcess(r.ExecID, stdioPaths{r.Stdin, r.Stdout, r.Stderr, r.Terminal}, &spec)
	c.mu.Unlock()
	s.pub.publish(topicExecAdded, &eventsapi.TaskExecAdded{ContainerID: c.id, ExecID: r.ExecID})
	return &emptypb.Empty{}, nil
}

func (s *service) ResizePty(ctx context.Context, r *taskapi.ResizePtyRequest) (*emptypb.Empty, error) {
	c, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	p.mu.Lock()
	pio := p.io
	p.mu.Unlock()
	if pio == nil {
		return nil, wrap(fmt.Errorf("%s: not started: %w", p.name(c.id), errdefs.ErrFailedPrecondition))
	}
	if err := pio.resize(r.Width, r.Height); err != nil {
		return nil, wrap(fmt.Errorf("%s: %v: %w", p.name(c.id), err, errdefs.ErrFailedPrecondition))
	}
	return &emptypb.Empty{}, nil
}

func (s *service) CloseIO(ctx context.Context, r *taskapi.CloseIORequest) (*emptypb.Empty, error) {
	_, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	p.mu.Lock()
	pio := p.io
	p.mu.Unlock()
	if r.Stdin && pio != nil {
		pio.closeStdin()
	}
	return &emptypb.Empty{}, nil
}

// Update applies new resource limits (a runtime-spec LinuxResources).
func (s *service) Update(ctx context.Context, r *taskapi.UpdateTaskRequest) (*emptypb.Empty, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	var res specs.LinuxResources
	if r.Resources == nil || json.Unmarshal(r.Resources.Value, &res) != nil {
		return nil, wrap(fmt.Errorf("task %s: resources: want a runtime-spec LinuxResources: %w", c.id, errdefs.ErrInvalidArgument))
	}
	if err := s.rt.Update(c.id, &res); err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	return &emptypb.Empty{}, nil
}

func (s *service) Wait(ctx context.Context, r *taskapi.WaitRequest) (*taskapi.WaitResponse, error) {
	_, p, err := s.process(r.ID, r.ExecID)
	if err != nil {
		return nil, wrap(err)
	}
	status, at, err := p.wait(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	return &taskapi.WaitResponse{ExitStatus: uint32(status), ExitedAt: timestamppb.New(at)}, nil
}

func (s *service) Stats(ctx context.Context, r *taskapi.StatsRequest) (*taskapi.StatsResponse, error) {
	c, err := s.container(r.ID)
	if err != nil {
		return nil, wrap(err)
	}
	st, err := s.rt.Stats(c.id)
	if err != nil {
		return nil, wrap(fmt.Errorf("task %s: %w", c.id, err))
	}
	a, err := metrics(st)
	if err != nil {
		return nil, wrap(err)
	}
	return &taskapi.StatsResponse{Stats: a}, nil
}

func (s *service) Connect(ctx context.Context, r *taskapi.ConnectRequest) (*taskapi.ConnectResponse, error) {
	resp := &taskapi.ConnectResponse{ShimPid: uint32(os.Getpid()), Version: Version}
	if c, err := s.container(r.ID); err == nil {
		_, pid, _, _ := c.init.current()
		resp.TaskPid = uint32(pid)
	}
	return resp, nil
}

// Shutdown ends the shim once it serves no container.
func (s *service) Shutdown(ctx context.Context, r *taskapi.ShutdownRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	n := len(s.containers)
	s.mu.Unlock()
	if n == 0 || r.Now {
		s.shutdown()
	}
	return &emptypb.Empty{}, nil
}

// processDetails is the Info of an exec process in Pids, as runc's shim
// gives it.
func processDetails(execID string) (*anypb.Any, error) {
	return marshalAny(&runcopts.ProcessDetails{ExecID: execID})
}

// oomInterval is how often the OOM kill counters are read.
const oomInterval = 500 * time.Millisecond

// watchOOM publishes TaskOOM whenever the kernel's OOM killer has killed a
// process of a running container since the last look.
func (s *service) watchOOM(ctx context.Context) {
	t := time.NewTicker(oomInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		var ids []string
		for id, c := range s.containers {
			if st, _, _, _ := c.init.current(); st == stateRunning {
				ids = append(ids, id)
			}
		}
		s.mu.Unlock()
		for _, id := range ids {
			s.checkOOM(id)
		}
	}
}

// checkOOM publishes TaskOOM when the container's OOM kill count grew
// since it was last checked. It is also checked as its init exits, so an
// init the OOM killer ended has its TaskOOM before its TaskExit.
func (s *service) checkOOM(id string) {
	n, err := s.rt.OOMKills(id)
	if err != nil {
		return
	}
	s.oomMu.Lock()
	grew := n > s.oomSeen[id]
	s.oomSeen[id] = n
	s.oomMu.Unlock()
	if grew {
		s.pub.publish(topicOOM, &eventsapi.TaskOOM{ContainerID: id})
	}
}
