// Package freeport picks loopback TCP ports for tests to hand to servers
// they start in other processes (mesos-sim, the framework, ZooKeeper).
//
// A port from listening on ":0" is an ephemeral one: between the test
// closing its listener and the server binding the port, any outgoing
// connection on the machine may be given the same port as its source, and
// the server then fails to bind, or a test talks to a stranger (seen: a 404
// from /v1/status 0.12 s after the framework started). Ports below the
// kernel's ephemeral range are never given to outgoing connections, so
// Loopback draws them there, at random, and checks that they are free.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the lowest port drawn: above the registered ports most
// daemons use.
const lowest = 10000

// Loopback returns a port on 127.0.0.1 that was free a moment ago and that
// no outgoing connection will take.
func Loopback() (int, error) {
	high := ephemeralLow()
	var last error
	for range 100 {
		port := lowest + rand.IntN(high-lowest)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			last = err
			continue
		}
		ln.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d: %w", lowest, high-1, last)
}

// ephemeralLow is the start of the kernel's ephemeral port range (32768
// when it cannot be read, Linux's default).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= lowest+1000 {
		return 32768
	}
	return n
}
