// Package hostnet is the host side of a converted container's network
// (c2w run --net, c2w net): a user-space TCP/IP stack (gVisor's netstack)
// at the other end of the guest's link (emulator/linux/inet, link.go),
// which terminates every TCP connection and UDP flow the guest opens and
// makes it again from the host with the host's own sockets, as slirp and
// qemu's user-mode networking do. Nothing runs with privileges and no
// packet of the guest reaches a host interface.
//
// Addresses of the guest network map to the host: the gateway (10.0.2.2)
// is the host's loopback, the DNS server (10.0.2.3, port 53) relays to the
// host's resolvers; any other address is dialled as it is.
package hostnet
