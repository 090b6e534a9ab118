package hostnet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
	"github.com/wasmrt/wasmrt/hostnet"
	"github.com/wasmrt/wasmrt/internal/linktest"
	"github.com/wasmrt/wasmrt/internal/testdns"
)

// guestNetwork is a guest's network stack linked to a host side served
// by hostnet, over a loopback TCP connection as in c2w run.
func guestNetwork(t *testing.T, opts hostnet.Options) *inet.Stack {
	t.Helper()
	s, err := inet.New()
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.AttachLink(context.Background(), linktest.Link(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	go run()
	t.Cleanup(func() { s.S.Close() })
	return s
}

func dialGuest(s *inet.Stack, addr tcpip.Address, port uint16) (*gonet.TCPConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return gonet.DialContextTCP(ctx, s.S, tcpip.FullAddress{Addr: addr, Port: port}, ipv4.ProtocolNumber)
}

// TestGuestReachesHostLoopback: a guest connection to the gateway reaches
// a server on the host's loopback, and 8 MiB go each way intact.
func TestGuestReachesHostLoopback(t *testing.T) {
	s := guestNetwork(t, hostnet.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The host server answers with the sha256 of what it read, then
	// sends 8 MiB of its own.
	payload := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), 8<<20/36)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		h := sha256.New()
		io.Copy(h, c)
		c.Write(h.Sum(nil))
		c.Write(payload)
	}()
	c, err := dialGuest(s, inet.GatewayAddr, uint16(l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		c.Write(payload)
		c.CloseWrite()
	}()
	c.SetDeadline(time.Now().Add(time.Minute))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(payload)
	if len(got) != len(want)+len(payload) || !bytes.Equal(got[:len(want)], want[:]) || !bytes.Equal(got[len(want):], payload) {
		t.Errorf("guest read %d bytes, want the digest and %d bytes back", len(got), len(payload))
	}
}

// TestGuestDataOutlivesLink: what a guest program sent just before the
// machine ended (its connections drained, then its link closed, as the
// emulator stops) still reaches a host server that reads it slowly: the
// host side holds it as a closed socket's buffer would.
func TestGuestDataOutlivesLink(t *testing.T) {
	s, link, served := openLink(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	received := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			received <- -1
			return
		}
		defer c.Close()
		time.Sleep(200 * time.Millisecond)
		n := 0
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			n += k
			if err != nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		received <- n
	}()
	c, err := dialGuest(s, inet.GatewayAddr, uint16(l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	const size = 16 << 20
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Drain(time.Minute)
	link.Close()
	select {
	case n := <-received:
		if n != size {
			t.Errorf("the host server read %d bytes, want %d", n, size)
		}
	case <-time.After(time.Minute):
		t.Fatal("the host server is still reading a minute after the link closed")
	}
	if err := <-served; err != nil {
		t.Errorf("host side: %v", err)
	}
}

// openLink is a guest's network stack linked to a host side served by
// hostnet, as guestNetwork's, with the guest's end of the link, which the
// test closes, and how the host side ended.
func openLink(t *testing.T) (*inet.Stack, net.Conn, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served := make(chan error, 1)
	go func() { served <- hostnet.Connect(ctx, ln.Addr().String(), "open", hostnet.Options{}) }()
	link, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if err := inet.AcceptLink(link, "open"); err != nil {
		t.Fatal(err)
	}
	s, err := inet.New()
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.AttachLink(context.Background(), link)
	if err != nil {
		t.Fatal(err)
	}
	go run()
	t.Cleanup(func() { s.S.Close(); link.Close() })
	return s, link, served
}

// TestLinkEndsWithOpenConnection: a connection the guest leaves open when
// its machine ends (a background process still connected) does not hold
// the host side: it ends soon after the link, not after drainLimit.
func TestLinkEndsWithOpenConnection(t *testing.T) {
	s, link, served := openLink(t)
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	got := make(chan string, 1)
	go func() {
		c, err := server.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 5)
		io.ReadFull(c, b)
		got <- string(b)
		io.Copy(io.Discard, c)
	}()
	c, err := dialGuest(s, inet.GatewayAddr, uint16(server.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if b != "hello" {
			t.Fatalf("the host server read %q", b)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the host server read nothing")
	}
	start := time.Now()
	link.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("host side: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the host side ended %v after the link, with a connection left open", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the host side still runs 30 s after the link ended")
	}
}

// TestRefusals: a closed host port and an address of the guest network
// that is nobody refuse the guest's connection at once, as a host's reset
// would.
func TestRefusals(t *testing.T) {
	s := guestNetwork(t, hostnet.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	for _, addr := range []tcpip.FullAddress{
		{Addr: inet.GatewayAddr, Port: closed},
		{Addr: tcpip.AddrFrom4([4]byte{10, 0, 2, 77}), Port: 80},
		{Addr: inet.DNSAddr, Port: 80},
	} {
		start := time.Now()
		c, err := dialGuest(s, addr.Addr, addr.Port)
		if err == nil {
			c.Close()
			t.Errorf("%s:%d: connected", addr.Addr, addr.Port)
			continue
		}
		if !strings.Contains(err.Error(), "refused") || time.Since(start) > 10*time.Second {
			t.Errorf("%s:%d: %v after %v, want a refusal at once", addr.Addr, addr.Port, err, time.Since(start))
		}
	}
}

// TestDNSRelay: a query to the guest's DNS server is answered by the
// resolver the host side was given, over UDP and TCP.
func TestDNSRelay(t *testing.T) {
	dns, err := testdns.Start(map[string]netip.Addr{"web.test": netip.MustParseAddr("192.0.2.7")})
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	s := guestNetwork(t, hostnet.Options{DNS: []string{dns.Addr}})
	query := func(id uint16) []byte {
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
		b.StartQuestions()
		b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName("web.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
		out, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(proto string, answer []byte, id uint16) {
		var m dnsmessage.Message
		if err := m.Unpack(answer); err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if m.ID != id || len(m.Answers) != 1 || m.Answers[0].Body.(*dnsmessage.AResource).A != [4]byte{192, 0, 2, 7} {
			t.Errorf("%s: answer %+v", proto, m)
		}
	}

	u, err := gonet.DialUDP(s.S, nil, &tcpip.FullAddress{Addr: inet.DNSAddr, Port: 53}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := u.Write(query(7)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := u.Read(buf)
	if err != nil {
		t.Fatalf("udp: %v", err)
	}
	check("udp", buf[:n], 7)

	c, err := dialGuest(s, inet.DNSAddr, 53)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	q := query(9)
	c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(q))), q...))
	var size [2]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("tcp: %v", err)
	}
	answer := make([]byte, binary.BigEndian.Uint16(size[:]))
	if _, err := io.ReadFull(c, answer); err != nil {
		t.Fatalf("tcp: %v", err)
	}
	check("tcp", answer, 9)
	if dns.Queries() != 2 {
		t.Errorf("the resolver answered %d queries, want 2", dns.Queries())
	}
}

// TestLinkOpening: the guest side refuses a helper with the wrong token
// and a peer that is no helper; the helper sees the refusal.
func TestLinkOpening(t *testing.T) {
	for _, tc := range []struct{ hello, want string }{
		{"c2w-net/1 wrong\n", "wrong token"},
		{"GET / HTTP/1.0\n", "not a c2w network helper"},
		{"c2w-net/1 " + strings.Repeat("x", 300), "line too long"},
	} {
		guest, helper := net.Pipe()
		go func() {
			io.WriteString(helper, tc.hello)
			helper.Close()
		}()
		if err := inet.AcceptLink(guest, "right"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("hello %.20q: %v, want %q", tc.hello, err, tc.want)
		}
		guest.Close()
	}
	guest, helper := net.Pipe()
	go func() {
		inet.AcceptLink(guest, "right")
		guest.Close()
	}()
	if err := inet.OpenLink(helper, "wrong"); err == nil {
		t.Error("OpenLink with the wrong token succeeded")
	}
}

// TestOversizedPacketEndsLink: a peer that announces a packet larger than
// the MTU is broken or hostile; the link ends with an error naming it.
func TestOversizedPacketEndsLink(t *testing.T) {
	guest, helper := net.Pipe()
	defer helper.Close()
	go func() {
		binary.Write(helper, binary.BigEndian, uint32(1<<30))
	}()
	l := inet.NewLink(guest)
	done := make(chan error, 1)
	go func() { done <- l.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "1073741824 bytes") {
			t.Errorf("link ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the link goes on after an oversized packet")
	}
}

// TestExpose: with Options.Expose, a port the guest says it listens on
// is listened on at the host side, and connections to it reach the
// guest's server from the gateway; when the guest's last listener on it
// closes, the host side stops listening.
func TestExpose(t *testing.T) {
	s := guestNetwork(t, hostnet.Options{Expose: true})
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()
	l, err := gonet.ListenTCP(s.S, tcpip.FullAddress{Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "peer "+c.RemoteAddr().String()+"\n")
			c.Close()
		}
	}()
	s.Expose(port)
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(got) == 0; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			got, _ = io.ReadAll(c)
			c.Close()
		}
	}
	if !strings.HasPrefix(string(got), "peer "+inet.GatewayAddr.String()+":") {
		t.Fatalf("through the exposed port: %q", got)
	}
	s.Unexpose(port)
	l.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the host side still listens after the guest's listener closed")
		}
	}
}
