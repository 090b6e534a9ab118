package shim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	taskapi "github.com/containerd/containerd/api/runtime/task/v2"
	apitypes "github.com/containerd/containerd/api/types"
	"github.com/containerd/ttrpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wasmrt/wasmrt/runtime"
)

// Name is the binary's name, from which containerd derives the runtime
// name io.containerd.wasmrt.v1.
const Name = "containerd-shim-wasmrt-v1"

// Version is reported by -v and Connect.
const Version = "0.1.0"

// stateRoot holds the runtime's container state, per containerd namespace,
// as runc's shim keeps its own under /run/containerd/runc.
const stateRoot = "/run/containerd/wasmrt"

// socketDir holds the shims' sockets, as containerd's own shims keep them.
const socketDir = "/run/containerd/s"

// groupAnnotations name the pod a container belongs to; containers of one
// pod share a shim.
var groupAnnotations = []string{"io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id"}

// ttrpcAddressEnv carries containerd's ttrpc address (events) to shims.
const ttrpcAddressEnv = "TTRPC_ADDRESS"

type flags struct {
	namespace, address, publishBinary, id, bundle, socket string
	debug, version, info                                  bool
}

// Main runs the shim with its arguments (os.Args[1:]) and returns the exit
// status.
func Main(args []string) int {
	// A container's init: the runtime re-executes this binary.
	if len(args) > 0 && args[0] == "init" {
		if err := runtime.RunInit(); err != nil {
			fmt.Fprintln(os.Stderr, Name+" init:", err)
		}
		return 1
	}
	var f flags
	fs := flag.NewFlagSet(Name, flag.ContinueOnError)
	fs.StringVar(&f.namespace, "namespace", "", "containerd namespace of the task")
	fs.StringVar(&f.address, "address", "", "containerd's GRPC address")
	fs.StringVar(&f.publishBinary, "publish-binary", "", "containerd binary that publishes events (unused: events go over ttrpc)")
	fs.StringVar(&f.id, "id", "", "id of the task")
	fs.StringVar(&f.bundle, "bundle", "", "bundle directory (delete)")
	fs.StringVar(&f.socket, "socket", "", "socket path to serve on (instead of the one start creates)")
	fs.BoolVar(&f.debug, "debug", false, "log debug messages")
	fs.BoolVar(&f.version, "v", false, "print the version and exit")
	fs.BoolVar(&f.info, "info", false, "print the runtime's information for containerd (a RuntimeInfo message) and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: %s -namespace NS -address ADDR -id ID [-debug] start|delete
containerd's runtime v2 shim for wasmrt: runs native, WebAssembly and
c2w-converted containers. containerd starts it for the runtime
io.containerd.wasmrt.v1; it is not meant to be run by hand.

`, Name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if f.version {
		fmt.Printf("%s:\n  Version: %s\n  Runtime-spec: %s\n", Name, Version, specs.Version)
		return 0
	}
	if f.info {
		out, err := runtimeInfo(os.Stdin)
		if err == nil {
			_, err = os.Stdout.Write(out)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
			return 1
		}
		return 0
	}
	if f.namespace == "" {
		fmt.Fprintln(os.Stderr, Name+": -namespace is required")
		return 2
	}
	var err error
	switch action := fs.Arg(0); action {
	case "start":
		var addr string
		if addr, err = start(f); err == nil {
			fmt.Print(addr)
		}
	case "delete":
		var out []byte
		if out, err = deleteAction(f); err == nil {
			_, err = os.Stdout.Write(out)
		}
	case "":
		err = serve(f)
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown action %q (start or delete)\n", Name, action)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", Name, err)
		return 1
	}
	return 0
}

// socketPath names the socket of the shim serving a group in a namespace
// of one containerd.
func socketPath(address, namespace, group string) string {
	sum := sha256.Sum256([]byte(filepath.Join(address, namespace, group)))
	return filepath.Join(socketDir, hex.EncodeToString(sum[:]))
}

// start finds or spawns the shim for the container in the working
// directory (its bundle) and returns the address containerd connects to.
func start(f flags) (string, error) {
	// containerd writes runtime options to stdin; this shim has none.
	_, _ = io.Copy(io.Discard, os.Stdin)
	if f.id == "" {
		return "", errors.New("-id is required")
	}
	spec, err := runtime.LoadSpec(".")
	if err != nil {
		return "", err
	}
	group := f.id
	for _, a := range groupAnnotations {
		if g := spec.Annotations[a]; g != "" {
			group = g
			break
		}
	}
	path := socketPath(f.address, f.namespace, group)
	addr := "unix://" + path
	if err := os.MkdirAll(socketDir, 0o711); err != nil {
		return "", err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		if !errors.Is(err, unix.EADDRINUSE) {
			return "", fmt.Errorf("shim socket %s: %w", path, err)
		}
		// The pod's shim, if it still answers.
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return addr, writeAddress(addr)
		}
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("stale shim socket %s: %w", path, err)
		}
		if l, err = net.Listen("unix", path); err != nil {
			return "", fmt.Errorf("shim socket %s: %w", path, err)
		}
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	sock, err := ul.File()
	l.Close()
	if err != nil {
		os.Remove(path)
		return "", err
	}
	defer sock.Close()
	self, err := os.Executable()
	if err != nil {
		os.Remove(path)
		return "", err
	}
	args := []string{"-namespace", f.namespace, "-id", f.id, "-address", f.address, "-publish-binary", f.publishBinary, "-socket", path}
	if f.debug {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.ExtraFiles = []*os.File{sock}
	// Its own process group: signals for containerd's group are not ours.
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("start the shim daemon: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	if err := writeAddress(addr); err != nil {
		_ = cmd.Process.Kill()
		os.Remove(path)
		return "", err
	}
	return addr, nil
}

// writeAddress records the shim's address in the bundle, where a
// restarted containerd looks for it.
func writeAddress(addr string) error {
	if err := os.WriteFile(".address.tmp", []byte(addr), 0o600); err != nil {
		return err
	}
	return os.Rename(".address.tmp", "address")
}

// deleteAction cleans up after a shim that is gone and returns the
// DeleteResponse containerd reads from stdout.
func deleteAction(f flags) ([]byte, error) {
	if f.id == "" || f.bundle == "" {
		return nil, errors.New("-id and -bundle are required")
	}
	rt := runtime.New(filepath.Join(stateRoot, f.namespace), slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err := rt.Delete(f.id, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return nil, err
	}
	if err := runtime.UnmountRootfs(filepath.Join(f.bundle, "rootfs")); err != nil {
		return nil, err
	}
	return proto.Marshal(&taskapi.DeleteResponse{
		ExitStatus: 128 + uint32(unix.SIGKILL),
		ExitedAt:   timestamppb.Now(),
	})
}

// serve is the daemon: it serves the task service on the socket start
// passed as fd 3 until Shutdown finds no container left.
func serve(f flags) error {
	log := openLog(f.debug)
	l, err := net.FileListener(os.NewFile(3, "socket"))
	if err != nil {
		return fmt.Errorf("socket from start: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	// A terminal's ^C is not for the shim; writes to a gone reader fail
	// instead of killing it.
	signal.Ignore(unix.SIGINT, unix.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := runtime.New(filepath.Join(stateRoot, f.namespace), log)
	pub := newPublisher(os.Getenv(ttrpcAddressEnv), f.namespace, log)
	defer pub.close()
	server, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	svc := newService(ctx, rt, pub, log, func() {
		// Shutdown with nothing left: stop serving, let the process end.
		cancel()
	})
	svc.containerd, svc.namespace = f.address, f.namespace
	taskapi.RegisterTaskService(server, svc)
	go func() {
		<-ctx.Done()
		server.Close()
	}()
	log.Debug("shim serving", "socket", f.socket, "namespace", f.namespace)
	err = server.Serve(ctx, l)
	if f.socket != "" {
		os.Remove(f.socket)
	}
	if err != nil && !errors.Is(err, ttrpc.ErrServerClosed) && ctx.Err() == nil {
		return err
	}
	return nil
}

// openLog logs to the bundle's "log" FIFO, which containerd reads and
// copies into its own log; without it, nowhere.
func openLog(debug bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	var w io.Writer = io.Discard
	// O_RDWR never blocks on a FIFO; containerd holds the reading end.
	if fifo, err := os.OpenFile("log", os.O_RDWR, 0); err == nil {
		w = fifo
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// featuresTypeURL is how containerd names a runtime-spec features document
// inside an Any (its value is the JSON document).
var featuresTypeURL = fmt.Sprintf("types.containerd.io/opencontainers/runtime-spec/%d/features/Features", specs.VersionMajor)

// runtimeInfo answers containerd 2's `-info` (which it asks before
// idmapped mounts and for CRI's runtime status): the runtime's name and
// version, the options read from stdin given back, and the runtime-spec
// features this runtime implements, as `wasmrt features` prints them.
func runtimeInfo(options io.Reader) ([]byte, error) {
	info := &apitypes.RuntimeInfo{
		Name:    "io.containerd.wasmrt.v1",
		Version: &apitypes.RuntimeVersion{Version: Version},
	}
	in, err := io.ReadAll(io.LimitReader(options, 1<<20))
	if err != nil {
		return nil, err
	}
	if len(in) > 0 {
		var opts anypb.Any
		if err := proto.Unmarshal(in, &opts); err != nil {
			return nil, fmt.Errorf("runtime options on stdin: %w", err)
		}
		info.Options = &opts
	}
	feat, err := json.Marshal(runtime.Features())
	if err != nil {
		return nil, err
	}
	info.Features = &anypb.Any{TypeUrl: featuresTypeURL, Value: feat}
	return proto.Marshal(info)
}
