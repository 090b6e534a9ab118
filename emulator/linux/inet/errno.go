package inet

import (
	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/wasmrt/wasmrt/emulator/linux/abi"
)

// Errno is the errno Linux gives for what netstack reports as err (the
// mapping gVisor's sentry uses); nil stays nil. ErrClosedForReceive is
// not an error to a reader (end of stream): callers check it first.
func Errno(err tcpip.Error) error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case *tcpip.ErrWouldBlock:
		return abi.EAGAIN
	case *tcpip.ErrConnectStarted:
		return abi.EINPROGRESS
	case *tcpip.ErrAlreadyConnecting:
		return abi.EALREADY
	case *tcpip.ErrAlreadyConnected:
		return abi.EISCONN
	case *tcpip.ErrNotConnected:
		return abi.ENOTCONN
	case *tcpip.ErrConnectionRefused:
		return abi.ECONNREFUSED
	case *tcpip.ErrConnectionReset:
		return abi.ECONNRESET
	case *tcpip.ErrConnectionAborted:
		return abi.ECONNABORTED
	case *tcpip.ErrAborted, *tcpip.ErrClosedForSend:
		return abi.EPIPE
	case *tcpip.ErrTimeout:
		return abi.ETIMEDOUT
	case *tcpip.ErrPortInUse:
		return abi.EADDRINUSE
	case *tcpip.ErrBadLocalAddress:
		return abi.EADDRNOTAVAIL
	case *tcpip.ErrNoPortAvailable:
		return abi.EAGAIN
	case *tcpip.ErrNetworkUnreachable:
		return abi.ENETUNREACH
	case *tcpip.ErrHostUnreachable, *tcpip.ErrNoNet:
		return abi.EHOSTUNREACH
	case *tcpip.ErrHostDown:
		return abi.EHOSTDOWN
	case *tcpip.ErrDestinationRequired:
		return abi.EDESTADDRREQ
	case *tcpip.ErrMessageTooLong:
		return abi.EMSGSIZE
	case *tcpip.ErrNoBufferSpace:
		return abi.ENOBUFS
	case *tcpip.ErrAddressFamilyNotSupported:
		return abi.EAFNOSUPPORT
	case *tcpip.ErrUnknownProtocolOption:
		return abi.ENOPROTOOPT
	case *tcpip.ErrNotSupported:
		return abi.EOPNOTSUPP
	case *tcpip.ErrQueueSizeNotSupported:
		return abi.ENOTTY
	case *tcpip.ErrBroadcastDisabled:
		return abi.EACCES
	case *tcpip.ErrNotPermitted:
		return abi.EPERM
	case *tcpip.ErrBadBuffer:
		return abi.EFAULT
	case *tcpip.ErrNoSuchFile:
		return abi.ENOENT
	case *tcpip.ErrDuplicateAddress, *tcpip.ErrDuplicateNICID:
		return abi.EEXIST
	case *tcpip.ErrUnknownNICID, *tcpip.ErrUnknownDevice:
		return abi.ENODEV
	case *tcpip.ErrEndpointBusy:
		return abi.EBUSY
	}
	// ErrInvalidEndpointState, ErrAlreadyBound, ErrInvalidOptionValue,
	// ErrUnknownProtocol, ErrMalformedHeader and the rest.
	return abi.EINVAL
}
