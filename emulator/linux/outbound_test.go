//go:build linux

package linux_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/wasmrt/wasmrt/emulator/linux"
	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/hostnet"
	"github.com/wasmrt/wasmrt/internal/fixtures"
	"github.com/wasmrt/wasmrt/internal/linktest"
)

// outboundServers are the host servers outbound.c talks to.
type outboundServers struct {
	count, closed, udp, sink string // ports
	mu                       sync.Mutex
	sunk                     []int // bytes each sink connection sent
}

func startOutboundServers(t *testing.T) *outboundServers {
	t.Helper()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	port := func(a net.Addr) string {
		_, p, _ := net.SplitHostPort(a.String())
		return p
	}
	s := &outboundServers{}
	count, sink := listen(), listen()
	closed := listen()
	s.closed = port(closed.Addr())
	closed.Close()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	s.count, s.sink, s.udp = port(count.Addr()), port(sink.Addr()), port(u.LocalAddr())
	serve := func(l net.Listener, handle func(net.Conn)) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}
	go serve(count, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		fmt.Fprintf(c, "%d bytes\n", n)
	})
	go serve(sink, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		s.mu.Lock()
		s.sunk = append(s.sunk, int(n))
		s.mu.Unlock()
	})
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			u.WriteTo(buf[:n], from)
		}
	}()
	return s
}

func (s *outboundServers) args(host string) []string {
	return []string{host, s.count, s.closed, s.udp, s.sink}
}

// takeSunk returns what the sink connections sent, once one has ended
// (waiting for it at most 10 s: the host side relays after the guest
// stopped), and forgets it.
func (s *outboundServers) takeSunk() []int {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		n := len(s.sunk)
		s.mu.Unlock()
		if n > 0 {
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sunk
	s.sunk = nil
	return out
}

// TestOutboundMatchesQemu: a guest program's connections to host servers
// through the network link (the gateway is the host's loopback) behave as
// the same program's under qemu-riscv64 on the host's loopback, including
// data a process sent just before it exited.
func TestOutboundMatchesQemu(t *testing.T) {
	bin := cCompile(t, "testdata/outbound.c")
	srv := startOutboundServers(t)
	want, status := qemuRun(t, bin, srv.args("127.0.0.1")...)
	if status != 0 {
		t.Fatalf("qemu: status %d, stdout:\n%s", status, want)
	}
	if sunk := srv.takeSunk(); len(sunk) != 1 || sunk[0] != 2<<20 {
		t.Fatalf("qemu: the sink got %v bytes, want [%d]", sunk, 2<<20)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	k, err := linux.New(linux.Config{
		Image: loadImage(t, fixtures.ImageBusybox), Stdout: &stdout, Stderr: &stderr, Env: testEnv,
		Stdin:   bytes.NewReader(prog),
		Network: linktest.Link(t, hostnet.Options{}),
		Args:    append([]string{"sh", "-c", `cat > /tmp/p; chmod +x /tmp/p; exec /tmp/p "$@"`, "sh"}, srv.args(inet.GatewayAddr.String())...),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Run()
	if err != nil || got != 0 || stdout.String() != want {
		t.Errorf("emulator: status %d, %v, stdout:\n%s\nstderr:\n%s\nqemu:\n%s", got, err, stdout.String(), stderr.String(), want)
	}
	// The machine stopped only once the exited child's data was out.
	if sunk := srv.takeSunk(); len(sunk) != 1 || sunk[0] != 2<<20 {
		t.Errorf("emulator: the sink got %v bytes, want [%d]", sunk, 2<<20)
	}
}
