package inet

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// The guest's network when it has one (Stack.AttachLink), as qemu's and
// slirp's user-mode networking lay it out: the guest is 10.0.2.15/24, the
// gateway 10.0.2.2 is the host itself (its loopback), 10.0.2.3 the DNS
// server the host relays to its own resolvers.
var (
	GuestAddr   = tcpip.AddrFrom4([4]byte{10, 0, 2, 15})
	GatewayAddr = tcpip.AddrFrom4([4]byte{10, 0, 2, 2})
	DNSAddr     = tcpip.AddrFrom4([4]byte{10, 0, 2, 3})
)

// NetworkPrefix is the length of the guest network's prefix.
const NetworkPrefix = 24

// LinkMTU is the MTU of the link between the guest and the host. Packets
// cross a byte stream, not a wire, so they are as large as IP allows:
// fewer, larger segments are what makes the guest's transfers fast.
const LinkMTU = 65280

// linkNIC is the guest's interface to the host (ifindex 2, eth0).
const linkNIC tcpip.NICID = 2

// linkQueue is how many packets wait for the link's writer before the
// stack drops more (TCP sends them again).
const linkQueue = 1024

// The handshake that opens a link: the host side writes hello and its
// token on one line, the guest answers accepted on one line; then both
// sides write packets, each as a 4-byte big-endian length and the IPv4 or
// IPv6 packet.
const (
	linkHello    = "c2w-net/1"
	linkAccepted = "ok"
	maxTokenLine = 256
)

// LinkTokenEnv names the WASI environment variable that gives a module
// the token its network helper must present (c2w run sets it; the module
// removes it from the guest's environment).
const LinkTokenEnv = "C2W_NET_TOKEN"

// ErrLinkToken is the guest side's answer to a host side whose token is
// not the one the guest was given.
var ErrLinkToken = errors.New("the network helper gave the wrong token")

// AcceptLink checks the opening of a link on c, from the host side, and
// answers it: token, when not empty, is what the host side must give.
func AcceptLink(c io.ReadWriter, token string) error {
	line, err := readLine(c)
	if err != nil {
		return fmt.Errorf("reading the network helper's hello: %w", err)
	}
	hello, got, _ := strings.Cut(line, " ")
	if hello != linkHello {
		return fmt.Errorf("the peer is not a c2w network helper (said %.40q)", line)
	}
	if token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
		return ErrLinkToken
	}
	_, err = io.WriteString(c, linkAccepted+"\n")
	return err
}

// OpenLink opens a link on c as its host side, giving token.
func OpenLink(c io.ReadWriter, token string) error {
	if strings.ContainsAny(token, " \n") || len(token) > maxTokenLine-len(linkHello)-2 {
		return errors.New("a network token is one word of at most 200 bytes")
	}
	if _, err := io.WriteString(c, linkHello+" "+token+"\n"); err != nil {
		return err
	}
	line, err := readLine(c)
	if err != nil {
		return fmt.Errorf("the module did not accept the link (wrong token, or no --net): %w", err)
	}
	if line != linkAccepted {
		return fmt.Errorf("the module answered %.40q to the link's hello", line)
	}
	return nil
}

// readLine reads one short line byte by byte: nothing after it may be
// consumed, the packets follow.
func readLine(r io.Reader) (string, error) {
	var b [1]byte
	var line []byte
	for len(line) < maxTokenLine {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if b[0] == '\n' {
			return string(line), nil
		}
		line = append(line, b[0])
	}
	return "", errors.New("line too long")
}

// Link carries a stack's packets over an opened link, and control
// messages beside them: the guest side tells the host side which TCP
// ports it serves (Stack.Expose), for a host that makes them reachable
// at its own address.
type Link struct {
	ep *channel.Endpoint
	c  io.ReadWriter
	// OnControl, set before Run, receives the peer's control messages.
	OnControl func(msg string)

	mu      sync.Mutex
	control []string
	wake    chan struct{}
}

// A frame whose length word has controlBit set is a control message of
// the remaining length: one line of text, at most maxControl bytes.
const (
	controlBit = 1 << 31
	maxControl = 256
)

// NewLink returns the link over c (an opened link). Packets are checked
// by the receiving stack, not by checksums: the stream already carries
// them intact.
func NewLink(c io.ReadWriter) *Link {
	ep := channel.New(linkQueue, LinkMTU, "")
	ep.LinkEPCapabilities = stack.CapabilityRXChecksumOffload | stack.CapabilityTXChecksumOffload
	l := &Link{ep: ep, c: c, wake: make(chan struct{}, 1)}
	ep.AddNotify(l)
	return l
}

// Endpoint is the link's endpoint for a stack's NIC.
func (l *Link) Endpoint() stack.LinkEndpoint { return l.ep }

// WriteNotify implements channel.Notification: a packet is queued.
func (l *Link) WriteNotify() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Send queues a control message for the peer.
func (l *Link) Send(msg string) {
	l.mu.Lock()
	l.control = append(l.control, msg)
	l.mu.Unlock()
	l.WriteNotify()
}

// Run moves the link's packets and messages until c fails or ends, or
// ctx is done.
func (l *Link) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- l.write(ctx) }()
	go func() { errs <- l.read() }()
	err := <-errs
	cancel()
	l.ep.Close()
	return err
}

// write sends queued control messages and packets over the link,
// batching what is queued into one write.
func (l *Link) write(ctx context.Context) error {
	bw := bufio.NewWriterSize(l.c, 4*LinkMTU)
	var n [4]byte
	for {
		l.mu.Lock()
		msgs := l.control
		l.control = nil
		l.mu.Unlock()
		for _, m := range msgs {
			binary.BigEndian.PutUint32(n[:], controlBit|uint32(len(m)))
			bw.Write(n[:])
			bw.WriteString(m)
		}
		for pkt := l.ep.Read(); pkt != nil; pkt = l.ep.Read() {
			err := writePacket(bw, pkt)
			pkt.DecRef()
			if err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		select {
		case <-l.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

func writePacket(w *bufio.Writer, pkt *stack.PacketBuffer) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(pkt.Size()))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	for _, s := range pkt.AsSlices() {
		if _, err := w.Write(s); err != nil {
			return err
		}
	}
	return nil
}

// read delivers the packets read from the link to the stack and its
// control messages to OnControl. A packet larger than the link's MTU, or
// an overlong message, ends the link: the peer is broken or hostile.
func (l *Link) read() error {
	br := bufio.NewReaderSize(l.c, 4*LinkMTU)
	var n [4]byte
	for {
		if _, err := io.ReadFull(br, n[:]); err != nil {
			return peerGone(err)
		}
		size := binary.BigEndian.Uint32(n[:])
		if size&controlBit != 0 {
			size &^= controlBit
			if size > maxControl {
				return fmt.Errorf("network link: a control message of %d bytes (at most %d)", size, maxControl)
			}
			m := make([]byte, size)
			if _, err := io.ReadFull(br, m); err != nil {
				return peerGone(err)
			}
			if l.OnControl != nil {
				l.OnControl(string(m))
			}
			continue
		}
		if size == 0 || size > LinkMTU {
			return fmt.Errorf("network link: a packet of %d bytes (the MTU is %d)", size, LinkMTU)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(br, b); err != nil {
			return peerGone(err)
		}
		var proto tcpip.NetworkProtocolNumber
		switch header.IPVersion(b) {
		case header.IPv4Version:
			proto = ipv4.ProtocolNumber
		case header.IPv6Version:
			proto = ipv6.ProtocolNumber
		default:
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(b)})
		l.ep.InjectInbound(proto, pkt)
		pkt.DecRef()
	}
}

// peerGone is nil for the ways a link ends when its other side stops,
// even in the middle of a packet (a module that exits, a helper that is
// killed): the end of the network, not an error.
func peerGone(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	return err
}

// AttachLink gives the guest its network through an opened link c: eth0
// with GuestAddr, a default route through GatewayAddr. It returns the
// function that moves the link's packets (Link.Run).
func (s *Stack) AttachLink(ctx context.Context, c io.ReadWriter) (func() error, error) {
	l := NewLink(c)
	if err := s.S.CreateNICWithOptions(linkNIC, l.Endpoint(), stack.NICOptions{Name: "eth0"}); err != nil {
		return nil, Errno(err)
	}
	addr := GuestAddr.WithPrefix()
	addr.PrefixLen = NetworkPrefix
	if err := s.S.AddProtocolAddress(linkNIC, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: addr}, stack.AddressProperties{}); err != nil {
		return nil, Errno(err)
	}
	routes := s.S.GetRouteTable()
	routes = append(routes,
		tcpip.Route{Destination: addr.Subnet(), NIC: linkNIC},
		tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: GatewayAddr, NIC: linkNIC})
	s.S.SetRouteTable(routes)
	s.link = l
	return func() error { return l.Run(ctx) }, nil
}

// Expose tells the host side that a guest TCP socket listens on port at
// an address the link reaches (the wildcard or GuestAddr); Unexpose that
// one such socket closed. The host side hears of a port when its first
// listener opens and when its last closes. Without a link they do nothing.
func (s *Stack) Expose(port uint16) {
	if s.link == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exposed == nil {
		s.exposed = map[uint16]int{}
	}
	if s.exposed[port]++; s.exposed[port] == 1 {
		s.link.Send(fmt.Sprintf("listen tcp %d", port))
	}
}

// Unexpose: see Expose.
func (s *Stack) Unexpose(port uint16) {
	if s.link == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exposed[port]--; s.exposed[port] <= 0 {
		delete(s.exposed, port)
		s.link.Send(fmt.Sprintf("close tcp %d", port))
	}
}

// ParseControl reads a control message: "listen tcp PORT" or "close tcp
// PORT".
func ParseControl(msg string) (verb string, port uint16, ok bool) {
	f := strings.Fields(msg)
	if len(f) != 3 || (f[0] != "listen" && f[0] != "close") || f[1] != "tcp" {
		return "", 0, false
	}
	p, err := strconv.ParseUint(f[2], 10, 16)
	if err != nil || p == 0 {
		return "", 0, false
	}
	return f[0], uint16(p), true
}
