package inet

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// loopbackNIC is the loopback interface's id (ifindex 1, as on Linux).
const loopbackNIC tcpip.NICID = 1

// Linux's default range of ephemeral ports (net.ipv4.ip_local_port_range).
const (
	ephemeralFirst = 32768
	ephemeralLast  = 60999
)

// Stack is the machine's network stack.
type Stack struct {
	S *stack.Stack
	// Wake receives a value when an endpoint's readiness changed: the
	// kernel, with every task waiting, waits on it too.
	Wake chan struct{}
	// outbound counts the published connections still copying guest
	// data to the host (Drain).
	outbound atomic.Int32
	// link is the guest's link to the host side (AttachLink), or nil;
	// exposed counts its listening sockets per TCP port (Expose).
	link    *Link
	mu      sync.Mutex
	exposed map[uint16]int
}

// New returns a stack with the loopback interface up.
func New() (*Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	if err := s.CreateNICWithOptions(loopbackNIC, loopback.New(), stack.NICOptions{Name: "lo"}); err != nil {
		return nil, Errno(err)
	}
	v4 := tcpip.AddrFrom4([4]byte{127, 0, 0, 1}).WithPrefix()
	v4.PrefixLen = 8
	v6 := tcpip.AddrFrom16([16]byte{15: 1}).WithPrefix()
	for _, a := range []tcpip.ProtocolAddress{
		{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: v4},
		{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: v6},
	} {
		if err := s.AddProtocolAddress(loopbackNIC, a, stack.AddressProperties{}); err != nil {
			return nil, Errno(err)
		}
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: v4.Subnet(), NIC: loopbackNIC},
		{Destination: v6.Subnet(), NIC: loopbackNIC},
	})
	if err := s.SetPortRange(ephemeralFirst, ephemeralLast); err != nil {
		return nil, Errno(err)
	}
	// Nagle's algorithm is on until TCP_NODELAY, as on Linux.
	delay := tcpip.TCPDelayEnabled(true)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &delay); err != nil {
		return nil, Errno(err)
	}
	return &Stack{S: s, Wake: make(chan struct{}, 1)}, nil
}

// Protocols returns netstack's network and transport protocol numbers for
// a socket of family (AF_INET, AF_INET6) and kind (SOCK_STREAM,
// SOCK_DGRAM).
func Protocols(family, kind int) (tcpip.NetworkProtocolNumber, tcpip.TransportProtocolNumber) {
	network := tcpip.NetworkProtocolNumber(ipv4.ProtocolNumber)
	if family == AFInet6 {
		network = ipv6.ProtocolNumber
	}
	if kind == SockStream {
		return network, tcp.ProtocolNumber
	}
	return network, udp.ProtocolNumber
}

// NewEndpoint makes the endpoint of a socket of family and kind, whose
// readiness changes are announced on wq and to Wake.
func (s *Stack) NewEndpoint(family, kind int) (tcpip.Endpoint, *waiter.Queue, error) {
	network, transport := Protocols(family, kind)
	wq := new(waiter.Queue)
	ep, err := s.S.NewEndpoint(transport, network, wq)
	if err != nil {
		return nil, nil, Errno(err)
	}
	return ep, wq, nil
}

// Watch makes changes of the endpoint behind wq wake the kernel; the
// returned function stops it.
func (s *Stack) Watch(wq *waiter.Queue) func() {
	e := waiter.NewFunctionEntry(waiter.EventIn|waiter.EventOut|waiter.EventErr|waiter.EventHUp|waiter.EventRdHUp, func(waiter.EventMask) {
		select {
		case s.Wake <- struct{}{}:
		default:
		}
	})
	wq.EventRegister(&e)
	return func() { wq.EventUnregister(&e) }
}
