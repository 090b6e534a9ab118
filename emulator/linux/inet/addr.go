package inet

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Address families and socket kinds, as Linux numbers them.
const (
	AFUnspec   = 0
	AFInet     = 2
	AFInet6    = 10
	SockStream = 1
	SockDgram  = 2

	sockaddrInSize  = 16
	sockaddrIn6Size = 28
)

var be = binary.BigEndian

// ParseSockaddr reads the address a socket of family was given (bind,
// connect, sendto): a struct sockaddr_in for AF_INET; a sockaddr_in6 for
// AF_INET6, where an IPv4-mapped address (::ffff:a.b.c.d) names the IPv4
// one. It returns the address's own family too (AF_UNSPEC for connect's
// "dissolve the association").
func ParseSockaddr(family int, b []byte) (tcpip.FullAddress, int, error) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, 0, abi.EINVAL
	}
	got := int(binary.LittleEndian.Uint16(b))
	switch {
	case got == AFUnspec:
		return tcpip.FullAddress{}, AFUnspec, nil
	case got == AFInet && (family == AFInet || family == AFInet6):
		// An IPv6 socket takes an IPv4 address too: Linux refuses it
		// for bind but not for connect; callers decide.
		if len(b) < sockaddrInSize {
			return tcpip.FullAddress{}, 0, abi.EINVAL
		}
		return tcpip.FullAddress{Port: be.Uint16(b[2:]), Addr: v4(b[4:8])}, AFInet, nil
	case got == AFInet6 && family == AFInet6:
		if len(b) < sockaddrIn6Size {
			return tcpip.FullAddress{}, 0, abi.EINVAL
		}
		a := tcpip.FullAddress{Port: be.Uint16(b[2:]), Addr: tcpip.AddrFrom16Slice(b[8:24])}
		switch m := b[8:24]; {
		case isV4Mapped(m):
			a.Addr = v4(m[12:16])
		case a.Addr == tcpip.AddrFrom16([16]byte{}):
			// in6addr_any: netstack's unspecified address.
			a.Addr = tcpip.Address{}
		}
		return a, AFInet6, nil
	}
	return tcpip.FullAddress{}, got, abi.EAFNOSUPPORT
}

func v4(b []byte) tcpip.Address {
	a := tcpip.AddrFrom4Slice(b)
	if a == tcpip.AddrFrom4([4]byte{}) {
		// INADDR_ANY: netstack's unspecified address.
		return tcpip.Address{}
	}
	return a
}

func isV4Mapped(a []byte) bool {
	for _, c := range a[:10] {
		if c != 0 {
			return false
		}
	}
	return a[10] == 0xff && a[11] == 0xff
}

// Sockaddr encodes a as the struct sockaddr of a socket of family: an
// IPv4 address of an AF_INET6 socket (dual-stack) is shown IPv4-mapped.
func Sockaddr(family int, a tcpip.FullAddress) []byte {
	if family == AFInet {
		b := make([]byte, sockaddrInSize)
		binary.LittleEndian.PutUint16(b, AFInet)
		be.PutUint16(b[2:], a.Port)
		if a.Addr.Len() == 4 {
			copy(b[4:8], a.Addr.AsSlice())
		}
		return b
	}
	b := make([]byte, sockaddrIn6Size)
	binary.LittleEndian.PutUint16(b, AFInet6)
	be.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 16:
		copy(b[8:24], a.Addr.AsSlice())
	case 4:
		b[18], b[19] = 0xff, 0xff
		copy(b[20:24], a.Addr.AsSlice())
	}
	return b
}

// Destination is the address a connect or send to a reaches: Linux takes
// the unspecified address (0.0.0.0, ::) as this host, the loopback
// address of the address's family.
func Destination(a tcpip.FullAddress, family int) tcpip.FullAddress {
	if a.Addr.Len() == 0 {
		if family == AFInet6 {
			a.Addr = tcpip.AddrFrom16([16]byte{15: 1})
		} else {
			a.Addr = tcpip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	}
	return a
}
