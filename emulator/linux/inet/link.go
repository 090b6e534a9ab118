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
	"strings"
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

// NewLinkEndpoint returns a link endpoint whose packets cross c (an opened
// link) and the function that moves them: it returns when c fails or
// ends, or ctx is done. Packets are checked by the receiving stack, not by
// checksums: the stream already carries them intact.
func NewLinkEndpoint(ctx context.Context, c io.ReadWriter) (stack.LinkEndpoint, func() error) {
	ep := channel.New(linkQueue, LinkMTU, "")
	ep.LinkEPCapabilities = stack.CapabilityRXChecksumOffload | stack.CapabilityTXChecksumOffload
	return ep, func() error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make(chan error, 2)
		go func() { errs <- writePackets(ctx, ep, c) }()
		go func() { errs <- readPackets(ep, c) }()
		err := <-errs
		cancel()
		ep.Close()
		return err
	}
}

// writePackets sends the stack's outbound packets over w, batching what
// is queued into one write.
func writePackets(ctx context.Context, ep *channel.Endpoint, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 4*LinkMTU)
	for {
		pkt := ep.ReadContext(ctx)
		for pkt != nil {
			err := writePacket(bw, pkt)
			pkt.DecRef()
			if err != nil {
				return err
			}
			pkt = ep.Read()
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if ctx.Err() != nil {
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

// readPackets delivers the packets read from r to the stack. A packet
// larger than the link's MTU ends the link: the peer is broken or hostile.
func readPackets(ep *channel.Endpoint, r io.Reader) error {
	br := bufio.NewReaderSize(r, 4*LinkMTU)
	var n [4]byte
	for {
		if _, err := io.ReadFull(br, n[:]); err != nil {
			return peerGone(err)
		}
		size := binary.BigEndian.Uint32(n[:])
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
		ep.InjectInbound(proto, pkt)
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
// function that moves the link's packets (NewLinkEndpoint).
func (s *Stack) AttachLink(ctx context.Context, c io.ReadWriter) (func() error, error) {
	ep, run := NewLinkEndpoint(ctx, c)
	if err := s.S.CreateNICWithOptions(linkNIC, ep, stack.NICOptions{Name: "eth0"}); err != nil {
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
	return run, nil
}
