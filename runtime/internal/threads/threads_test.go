package threads

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// target keeps CAP_CHOWN and CAP_KILL and nothing else.
var target = Target{
	Bounding:    1<<unix.CAP_CHOWN | 1<<unix.CAP_KILL,
	Permitted:   1<<unix.CAP_CHOWN | 1<<unix.CAP_KILL,
	Effective:   1 << unix.CAP_CHOWN,
	Inheritable: 0,
}

func TestMain(m *testing.M) {
	if mode := os.Getenv("THREADS_TEST_CHILD"); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child restricts its own thread as a container init would, optionally the
// others with Restrict, then starts more threads and prints every thread's
// state.
func child(mode string) int {
	runtime.LockOSThread()
	target.LastCap = lastCap()
	// Threads that exist before the restriction, blocked in the kernel.
	startThreads(6)
	if err := restrictSelf(); err != nil {
		fmt.Fprintln(os.Stderr, "restrict self:", err)
		return 1
	}
	if mode == "restrict" {
		if err := Restrict(target); err != nil {
			fmt.Fprintln(os.Stderr, "Restrict:", err)
			return 1
		}
	}
	// Threads created afterwards, by whichever thread the runtime picks.
	startThreads(4)
	states, err := List()
	if err != nil {
		fmt.Fprintln(os.Stderr, "List:", err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{"self": unix.Gettid(), "threads": states})
	return 0
}

// startThreads starts n goroutines that each hold an OS thread of their
// own, blocked in the kernel.
func startThreads(n int) {
	var ready sync.WaitGroup
	for range n {
		ready.Add(1)
		go func() {
			runtime.LockOSThread()
			ready.Done()
			time.Sleep(time.Hour)
		}()
	}
	ready.Wait()
}

func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	var n int
	fmt.Sscan(string(b), &n)
	return n
}

func restrictSelf() error {
	for c := 0; c <= target.LastCap; c++ {
		if target.Bounding&(1<<c) == 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
				return err
			}
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(target.Effective), Permitted: uint32(target.Permitted), Inheritable: uint32(target.Inheritable)},
		{Effective: uint32(target.Effective >> 32), Permitted: uint32(target.Permitted >> 32), Inheritable: uint32(target.Inheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
}

func runChild(t *testing.T, mode string) (self int, states []State) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "THREADS_TEST_CHILD="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v", mode, err)
	}
	var res struct {
		Self    int
		Threads []State
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if len(res.Threads) < 10 {
		t.Fatalf("child has %d threads; the test needs at least 10", len(res.Threads))
	}
	return res.Self, res.Threads
}

func TestRestrictReachesEveryThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the threads must start with capabilities to drop")
	}
	target.LastCap = lastCap()
	// Without Restrict only the calling thread is restricted: the check
	// below must be able to fail.
	self, states := runChild(t, "self-only")
	privileged := 0
	for _, s := range states {
		if !s.Within(target) {
			privileged++
			if s.TID == self {
				t.Errorf("the restricted thread itself is outside the target: %+v", s)
			}
		}
	}
	if privileged == 0 {
		t.Fatal("without Restrict every thread was already restricted: the test proves nothing")
	}
	_, states = runChild(t, "restrict")
	for _, s := range states {
		if !s.Within(target) {
			t.Errorf("thread %d keeps privileges: %+v", s.TID, s)
		}
		if s.Bounding&^target.Bounding != 0 {
			t.Errorf("thread %d keeps bounding set %#x", s.TID, s.Bounding)
		}
	}
}

func TestWithin(t *testing.T) {
	tg := Target{Bounding: 0b11, Permitted: 0b11, Effective: 0b01}
	ok := State{Bounding: 0b01, Permitted: 0b01, Effective: 0b01, NoNewPrivs: true}
	if !ok.Within(tg) {
		t.Error("a subset is not within")
	}
	for name, s := range map[string]State{
		"permitted":   {Permitted: 0b100, NoNewPrivs: true},
		"effective":   {Permitted: 0b11, Effective: 0b10, NoNewPrivs: true},
		"ambient":     {Ambient: 1, NoNewPrivs: true},
		"nnp":         {},
		"inheritable": {Inheritable: 1, NoNewPrivs: true},
	} {
		if s.Within(tg) {
			t.Errorf("%s: %+v is within %+v", name, s, tg)
		}
	}
	// A thread that could drop its bounding set must have.
	withSetpcap := Target{Bounding: 1 << unix.CAP_SETPCAP, Permitted: 1 << unix.CAP_SETPCAP}
	if s := (State{Bounding: 0b1 | 1<<unix.CAP_SETPCAP, Permitted: 1 << unix.CAP_SETPCAP, NoNewPrivs: true}); s.Within(withSetpcap) {
		t.Error("a thread holding CAP_SETPCAP with extra bounding capabilities is within")
	}
	// Without CAP_SETPCAP a thread cannot drop its bounding set, and with
	// nothing permitted and no_new_privs it does not need to.
	if s := (State{Bounding: ^uint64(0), NoNewPrivs: true}); !s.Within(tg) {
		t.Error("an unprivileged thread with a full bounding set is not within")
	}
}
