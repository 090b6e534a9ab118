package inet

import (
	"io"
	"net"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Publish serves the host listener l into the guest: each connection the
// host accepts is connected to the guest's TCP port on loopback (IPv4,
// else IPv6), and bytes are copied both ways until either side closes, as
// docker's port publishing does. A connection made while nothing in the
// guest listens on the port is closed at once. It returns when l is
// closed.
func (s *Stack) Publish(l net.Listener, port uint16) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go s.forward(hostConn{c, new(sync.Mutex)}, port)
	}
}

// HostConn wraps a connection a WASI host accepted for the module so that
// closing it reaches the peer: wazero (1.12) ignores fd_close on an
// accepted socket (its close calls its shutdown, which sees the socket
// closed already and does nothing), so the peer would wait until the
// host's garbage collector closed the descriptor. Shutting both
// directions down first sends the FIN.
func HostConn(c net.Conn) net.Conn { return hostConn{Conn: c} }

type hostConn struct {
	net.Conn
	// writing, when set, makes Write write the descriptor itself and
	// hold it while it does (hostconn_wasip1.go): published connections,
	// whose peers may read slowly. The network link keeps net.Conn's
	// Write: its peer (hostnet) reads at once, and the link's small
	// frames lost ~300 ms a connection written directly (not understood
	// yet: seen in scripts/bench-net.sh's connect + echo through --net).
	writing *sync.Mutex
}

func (c hostConn) Close() error {
	closeWrite(c.Conn)
	if cr, ok := c.Conn.(interface{ CloseRead() error }); ok {
		cr.CloseRead()
	}
	return c.Conn.Close()
}

func (c hostConn) CloseWrite() error {
	closeWrite(c.Conn)
	return nil
}

// copyBuffer is what one turn of a forwarding goroutine moves at most.
const copyBuffer = 1 << 20

func (s *Stack) forward(host net.Conn, port uint16) {
	guest, err := gonet.DialTCP(s.S, tcpip.FullAddress{NIC: loopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		guest, err = gonet.DialTCP(s.S, tcpip.FullAddress{NIC: loopbackNIC, Addr: tcpip.AddrFrom16([16]byte{15: 1}), Port: port}, ipv6.ProtocolNumber)
	}
	if err != nil {
		host.Close()
		return
	}
	s.outbound.Add(1)
	Splice(host, guest, func() { s.outbound.Add(-1) })
}

// Splice copies a to b and b to a until both directions ended, closing
// the writing half of each side when the other's reading ends, and then
// both connections. sent, when not nil, is called once what b sent has
// all been written to a.
func Splice(a, b net.Conn, sent func()) {
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	// Large buffers: under wasip1 these goroutines run when the machine
	// yields, so each turn should move as much as is there.
	go func() {
		defer wg.Done()
		io.CopyBuffer(b, a, make([]byte, copyBuffer))
		closeWrite(b)
	}()
	go func() {
		defer wg.Done()
		io.CopyBuffer(a, b, make([]byte, copyBuffer))
		closeWrite(a)
		if sent != nil {
			sent()
		}
	}()
	wg.Wait()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// Drain waits, at most limit, until what guest programs sent has reached
// the host: through published connections, and over the link to the host
// side (closed TCP connections whose last data or FIN is not yet
// acknowledged). A program that writes its answer and exits at once ends
// the machine, while on Linux its closed socket would still deliver it.
func (s *Stack) Drain(limit time.Duration) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if s.outbound.Load() == 0 && !s.closing() {
			return
		}
	}
}

// closing reports whether a closed TCP connection still has data or its
// FIN unacknowledged.
func (s *Stack) closing() bool {
	for _, ep := range s.S.RegisteredEndpoints() {
		if t, ok := ep.(*tcp.Endpoint); ok {
			switch t.EndpointState() {
			case tcp.StateFinWait1, tcp.StateClosing, tcp.StateLastAck:
				return true
			}
		}
	}
	return false
}
