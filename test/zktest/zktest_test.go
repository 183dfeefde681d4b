package zktest

import (
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestStart_ServesClients(t *testing.T) {
	s := Start(t)
	c := s.Connect(t)
	if _, err := c.Create("/hello", []byte("world"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	data, _, err := c.Get("/hello")
	if err != nil || string(data) != "world" {
		t.Fatalf("get: %q %v", data, err)
	}
}
