package hostnet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/wasmrt/wasmrt/emulator/linux/inet"
)

// Options configure the host side.
type Options struct {
	// DNS are the resolvers the guest's DNS server relays to, each an IP
	// address or IP:PORT. Empty: the nameservers of the host's
	// /etc/resolv.conf.
	DNS []string
	// Expose makes every TCP port a guest program listens on (at the
	// wildcard address or the guest's own) a port of this host too,
	// listening on all its addresses: connections to it reach the guest's
	// server, coming from the gateway's address. It is what a container's
	// network namespace gives a native server (wasmrt); c2w run publishes
	// ports only when asked (-p), as docker run does.
	Expose bool
}

// The NIC of the host side's stack.
const nic tcpip.NICID = 1

// dialer makes the host's connections; its timeout bounds one attempt to
// connect on the guest's behalf (the guest's own SYN retries decide when
// its connect gives up).
var dialer = net.Dialer{Timeout: 20 * time.Second}

// udpIdle is how long a UDP flow lives without a datagram either way.
const udpIdle = 60 * time.Second

// Serve is the host side of an opened link (inet.OpenLink): it makes the
// guest's connections from the host until link ends or ctx is done.
func Serve(ctx context.Context, link io.ReadWriter, opts Options) error {
	dns, err := Resolvers(opts.DNS)
	if err != nil {
		return err
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	// A guest may open a new connection from the port of one this side
	// closed a moment ago (its port allocator reuses ports, and it closes
	// second, so it holds no TIME-WAIT): as Linux does, a SYN for a tuple
	// in TIME-WAIT starts the new connection. Without it netstack ignored
	// the SYN until TIME-WAIT ended, and the guest's connect took 63 s.
	reuse := tcpip.TCPTimeWaitReuseGlobal
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &reuse); err != nil {
		return fmt.Errorf("network: %s", err)
	}
	// Closing the endpoints ends the forwarded connections; no waiting
	// for their goroutines (Destroy), which a guest that vanished
	// mid-connection would hold for a TIME-WAIT or longer.
	defer s.Close()
	l := inet.NewLink(link)
	if err := s.CreateNIC(nic, l.Endpoint()); err != nil {
		return fmt.Errorf("network: %s", err)
	}
	// The gateway's address is this side's own: connections into the
	// guest (Expose) come from it.
	gw := inet.GatewayAddr.WithPrefix()
	gw.PrefixLen = inet.NetworkPrefix
	if err := s.AddProtocolAddress(nic, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: gw}, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("network: %s", err)
	}
	// Every address is the host's: the stack answers for whatever the
	// guest dials and replies from it.
	s.SetPromiscuousMode(nic, true)
	s.SetSpoofing(nic, true)
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: nic}})
	h := &host{ctx: ctx, s: s, dns: dns, listeners: map[uint16]net.Listener{}}
	tf := tcp.NewForwarder(s, 0, 1024, h.tcp)
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, tf.HandlePacket)
	uf := udp.NewForwarder(s, h.udp)
	s.SetTransportProtocolHandler(udp.ProtocolNumber, uf.HandlePacket)
	if opts.Expose {
		l.OnControl = h.control
		defer h.closeListeners()
	}
	err = l.Run(ctx)
	h.drain(drainLimit)
	return err
}

// drainLimit bounds how long the host side, once the link ended, goes on
// delivering what the guest sent before it: a host peer that stopped
// reading must not keep it. drainIdle ends the wait sooner when nothing
// moves: a connection the guest left open has nothing more to deliver.
const (
	drainLimit = 10 * time.Second
	drainIdle  = 100 * time.Millisecond
)

// drain waits, at most limit or until ctx is done, until every connection
// has written to the host what this side received from the guest, or no
// connection has written anything for drainIdle. A guest program that
// writes its answer and exits ends the machine, and so the link, once this
// side has acknowledged the data (inet.Stack.Drain): the data is then
// still here, as in a closed socket's buffer on Linux.
func (h *host) drain(limit time.Duration) {
	moved, still := h.moved.Load(), time.Now()
	for deadline := time.Now().Add(limit); h.toHost.Load() > 0 && time.Now().Before(deadline) && h.ctx.Err() == nil; {
		time.Sleep(time.Millisecond)
		if m := h.moved.Load(); m != moved {
			moved, still = m, time.Now()
		} else if time.Since(still) > drainIdle {
			return
		}
	}
}

// relay splices the guest's connection g with the host's c, counting it
// in toHost until what the guest sent has been written to c, and the
// bytes written in moved.
func (h *host) relay(c, g net.Conn) {
	h.toHost.Add(1)
	inet.Splice(countedConn{c, &h.moved}, g, func() { h.toHost.Add(-1) })
}

// countedConn counts the bytes written to a connection.
type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countedConn) Write(p []byte) (int, error) {
	k, err := c.Conn.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// CloseWrite passes Splice's half-close on.
func (c countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ConnectWait is how long Connect tries to reach a module that does not
// listen yet (as long as a module waits for its helper).
const ConnectWait = 30 * time.Second

// Connect dials the module's network socket at addr, retrying while
// nothing listens there yet (the module starts after its host opened the
// socket), for at most ConnectWait; opens the link giving token, and
// serves it until the module ends it or ctx is done.
func Connect(ctx context.Context, addr, token string, opts Options) error {
	return connect(ctx, addr, token, opts, nil)
}

// connect is Connect that also stops trying when moduleEnded is closed.
func connect(ctx context.Context, addr, token string, opts Options, moduleEnded <-chan struct{}) error {
	var c net.Conn
	giveUp := time.After(ConnectWait)
	for {
		var err error
		var d net.Dialer
		if c, err = d.DialContext(ctx, "tcp", addr); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("network: connecting to the module at %s: %w", addr, err)
		case <-moduleEnded:
			return nil
		case <-giveUp:
			return fmt.Errorf("network: no module listens at %s after %s: %w", addr, ConnectWait, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := inet.OpenLink(c, token); err != nil {
		return fmt.Errorf("network: %s: %w", addr, err)
	}
	if err := Serve(ctx, c, opts); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

type host struct {
	ctx context.Context
	s   *stack.Stack
	dns []string

	mu        sync.Mutex
	listeners map[uint16]net.Listener // exposed guest ports

	// toHost counts the TCP connections still copying what the guest
	// sent to the host, moved the bytes they wrote (drain).
	toHost atomic.Int32
	moved  atomic.Int64
}

// control follows the guest's listening sockets (Options.Expose).
func (h *host) control(msg string) {
	verb, port, ok := inet.ParseControl(msg)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l, open := h.listeners[port]
	switch {
	case verb == "listen" && !open:
		var lc net.ListenConfig
		l, err := lc.Listen(h.ctx, "tcp", ":"+strconv.Itoa(int(port)))
		if err != nil {
			// Taken on this side: the guest's server stays reachable
			// from inside the guest only.
			return
		}
		h.listeners[port] = l
		go h.serveExposed(l, port)
	case verb == "close" && open:
		l.Close()
		delete(h.listeners, port)
	}
}

// serveExposed connects each connection l accepts to the guest's port.
func (h *host) serveExposed(l net.Listener, port uint16) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			g, err := gonet.DialTCPWithBind(h.ctx, h.s,
				tcpip.FullAddress{NIC: nic, Addr: inet.GatewayAddr},
				tcpip.FullAddress{NIC: nic, Addr: inet.GuestAddr, Port: port}, ipv4.ProtocolNumber)
			if err != nil {
				c.Close()
				return
			}
			h.relay(c, g)
		}()
	}
}

func (h *host) closeListeners() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p, l := range h.listeners {
		l.Close()
		delete(h.listeners, p)
	}
}

// target is the host address that the guest's destination dst:port
// stands for, or false when the guest network has nothing there.
func (h *host) target(dst tcpip.Address, port uint16) (string, bool) {
	ip, ok := netip.AddrFromSlice(dst.AsSlice())
	if !ok || port == 0 {
		return "", false
	}
	subnet := netip.PrefixFrom(netip.AddrFrom4(inet.GuestAddr.As4()), inet.NetworkPrefix).Masked()
	switch {
	case dst == inet.GatewayAddr:
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), true
	case dst == inet.DNSAddr:
		if port != 53 || len(h.dns) == 0 {
			return "", false
		}
		return h.dns[0], true
	case subnet.Contains(ip), ip.IsMulticast(), ip.IsUnspecified(), ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}),
		ip.IsLoopback():
		// The guest's loopback never leaves it; the host's is 10.0.2.2.
		return "", false
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port))), true
}

// tcp makes the connection a guest's SYN asks for: the guest's handshake
// completes only once the host's has, and a refusal is a reset, so the
// guest's connect fails as it would against the host.
func (h *host) tcp(r *tcp.ForwarderRequest) {
	id := r.ID()
	addr, ok := h.target(id.LocalAddress, id.LocalPort)
	if !ok {
		r.Complete(true)
		return
	}
	hc, err := dialer.DialContext(h.ctx, "tcp", addr)
	if err != nil {
		// A host that does not answer lets the guest's SYNs time out.
		var ne net.Error
		r.Complete(!(errors.As(err, &ne) && ne.Timeout()))
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	r.Complete(false)
	if terr != nil {
		hc.Close()
		return
	}
	h.relay(hc, gonet.NewTCPConn(&wq, ep))
}

// udp starts a flow for a guest's datagram to a new destination; the
// datagram waits in the flow's endpoint while the host's socket is made.
func (h *host) udp(r *udp.ForwarderRequest) bool {
	id := r.ID()
	addr, ok := h.target(id.LocalAddress, id.LocalPort)
	if !ok {
		return true
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		return true
	}
	guest := gonet.NewUDPConn(&wq, ep)
	go func() {
		hc, err := dialer.DialContext(h.ctx, "udp", addr)
		if err != nil {
			guest.Close()
			return
		}
		relayDatagrams(guest, hc)
	}()
	return true
}

// relayDatagrams copies datagrams both ways until neither side has sent
// one for udpIdle, or either side fails.
func relayDatagrams(guest, hc net.Conn) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 2)
	relay := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 65536)
		for {
			src.SetReadDeadline(time.Now().Add(udpIdle))
			n, err := src.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, last.Load())) < udpIdle {
				continue // the other direction is busy
			}
			if err != nil {
				return
			}
			last.Store(time.Now().UnixNano())
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
	go relay(hc, guest)
	go relay(guest, hc)
	<-done
	guest.Close()
	hc.Close()
	<-done
}

// Resolvers returns the DNS servers the guest's queries go to, as
// host:port.
func Resolvers(given []string) ([]string, error) {
	var out []string
	for _, d := range given {
		if ip, err := netip.ParseAddr(d); err == nil {
			out = append(out, net.JoinHostPort(ip.String(), "53"))
			continue
		}
		if ap, err := netip.ParseAddrPort(d); err == nil && ap.Port() != 0 {
			out = append(out, ap.String())
			continue
		}
		return nil, fmt.Errorf("--dns %q: want an IP address or IP:PORT", d)
	}
	if len(given) > 0 {
		return out, nil
	}
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		// No resolvers: the guest's lookups go unanswered, as on a
		// host without any.
		return nil, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if ip, err := netip.ParseAddr(fields[1]); err == nil {
				out = append(out, net.JoinHostPort(ip.WithZone("").String(), "53"))
			}
		}
	}
	return out, nil
}

// Prepared is the host side of one module's network, prepared for a WASI
// host embedded in this process (c2w run, wasmrt): the host preopens a
// listening socket at Addr for the module, gives it Env and the --net
// flag, and calls Serve.
type Prepared struct {
	// Addr is a free port on this network namespace's loopback.
	Addr string
	// Token is random: no other local process can pose as the helper.
	Token string

	ended     chan struct{}
	endedOnce sync.Once
	served    chan error
}

// Prepare picks the loopback port and the token.
func Prepare() (*Prepared, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("network: no loopback port for the module's link: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &Prepared{Addr: addr, Token: hex.EncodeToString(b[:]), ended: make(chan struct{}), served: make(chan error, 1)}, nil
}

// Env is the module's environment entry with the token.
func (p *Prepared) Env() string { return inet.LinkTokenEnv + "=" + p.Token }

// Start connects to the module and serves its network, in the
// background, until the module ends the link or ctx is done; Wait tells
// how it ended.
func (p *Prepared) Start(ctx context.Context, opts Options) {
	go func() { p.served <- connect(ctx, p.Addr, p.Token, opts, p.ended) }()
}

// Wait is called once the module has ended: it returns when the host side
// has delivered what the guest sent before its end (for at most
// drainLimit, and at once when the module never opened its link), with
// the error that ended the network, if any.
func (p *Prepared) Wait() error {
	p.endedOnce.Do(func() { close(p.ended) })
	select {
	case err := <-p.served:
		return err
	case <-time.After(drainLimit + time.Second):
		// A link the module's end did not close: nothing more can
		// come over it.
		return nil
	}
}
