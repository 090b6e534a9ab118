// Package testdns is a DNS server for tests: it answers A queries for
// the names it is given over UDP and TCP on a loopback port, and NXDOMAIN
// for the rest, so that lookups in a guest can be checked against a
// resolver the test controls.
package testdns
