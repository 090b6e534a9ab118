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
		go s.forward(c, port)
	}
}

// copyBuffer is what one turn of a forwarding goroutine moves at most.
const copyBuffer = 1 << 20

func (s *Stack) forward(host net.Conn, port uint16) {
	defer host.Close()
	guest, err := gonet.DialTCP(s.S, tcpip.FullAddress{NIC: loopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: port}, ipv4.ProtocolNumber)
	if err != nil {
		guest, err = gonet.DialTCP(s.S, tcpip.FullAddress{NIC: loopbackNIC, Addr: tcpip.AddrFrom16([16]byte{15: 1}), Port: port}, ipv6.ProtocolNumber)
	}
	if err != nil {
		return
	}
	defer guest.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	// Large buffers: under wasip1 these goroutines run when the machine
	// yields, so each turn should move as much as is there.
	go func() {
		defer wg.Done()
		io.CopyBuffer(guest, host, make([]byte, copyBuffer))
		guest.CloseWrite()
	}()
	s.outbound.Add(1)
	go func() {
		defer wg.Done()
		defer s.outbound.Done()
		io.CopyBuffer(host, guest, make([]byte, copyBuffer))
		if tc, ok := host.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
		}
	}()
	wg.Wait()
}

// Drain waits, at most limit, until what guest programs sent on published
// connections has reached the host: a program that writes its answer and
// exits at once ends the machine, while on Linux its closed socket would
// still deliver the data.
func (s *Stack) Drain(limit time.Duration) {
	done := make(chan struct{})
	go func() {
		s.outbound.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
