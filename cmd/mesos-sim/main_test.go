package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClusterFileFillsDefaultsAndHostDirs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.json")
	body := `{"agents": [
	  {"hostname": "host-a", "attributes": {"rack": "r1"}, "cpus": 4, "ports": [[7860, 7880]],
	   "reservations": {"quobyte": {"cpus": 2}},
	   "markers": [{"device": "disk1", "content": "device.serial=S1\n"}]},
	  {"hostname": "host-b", "host_dir": "/srv/b"}]}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cf, err := loadClusterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	agents := cf.agentConfigs("/work")
	a, b := agents[0], agents[1]
	if a.CPUs != 4 || a.Mem != 16384 || len(a.Ports) != 1 || a.Reservations["quobyte"]["cpus"] != 2 || a.Attributes["rack"] != "r1" {
		t.Errorf("host-a: %+v", a)
	}
	if a.HostDir != "/work/hosts/host-a" || b.HostDir != "/srv/b" {
		t.Errorf("host dirs %q %q", a.HostDir, b.HostDir)
	}
	if b.CPUs != 8 || len(b.Ports) != 3 {
		t.Errorf("host-b defaults: %+v", b)
	}
	if len(cf.Agents[0].Markers) != 1 {
		t.Errorf("markers: %+v", cf.Agents[0].Markers)
	}
	if err := os.WriteFile(path, []byte(`{"agents": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadClusterFile(path); err == nil {
		t.Error("a cluster file without agents was accepted")
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseFlags(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.listen != "127.0.0.1:5050" || o.agents != 3 || o.allocation != time.Second || o.heartbeat != 15*time.Second || o.mode != "process" {
		t.Errorf("defaults: %+v", o)
	}
	if code := run([]string{"--help"}, &stderr, &stderr); code != 0 {
		t.Errorf("--help exits %d", code)
	}
	if !strings.Contains(stderr.String(), "--cluster") && !strings.Contains(stderr.String(), "-cluster") {
		t.Error("--help does not describe --cluster")
	}
	if code := run([]string{"--no-such-flag"}, &stderr, &stderr); code != 2 {
		t.Errorf("unknown flag exits %d, want 2", code)
	}
	if code := run([]string{"--mode", "docker", "--listen", "127.0.0.1:0", "--workdir", t.TempDir()}, &stderr, &stderr); code != 1 {
		t.Errorf("unknown mode exits %d, want 1", code)
	}
}
