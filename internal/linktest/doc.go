// Package linktest gives tests a guest's network link whose host side
// (package hostnet) runs in the test's process, opened over a loopback
// TCP connection as c2w run --net opens it.
package linktest
