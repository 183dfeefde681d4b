package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopback_BelowTheEphemeralRangeAndFree(t *testing.T) {
	for range 20 {
		port, err := Loopback()
		if err != nil {
			t.Fatal(err)
		}
		if port < lowest || port >= ephemeralLow() {
			t.Fatalf("port %d outside %d-%d", port, lowest, ephemeralLow()-1)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port %d is not free: %v", port, err)
		}
		ln.Close()
	}
}
