package standin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSingleRegistry(t *testing.T) {
	root := t.TempDir()
	dev := device(t, root, "dir0", "DIR_DEVICE")
	cfg := testConfig(t, Registry)
	cfg.DeviceRoot = root
	cfg.MaxMem = map[string]string{"REGISTRY": "1g"}
	r := start(t, cfg)

	healthIs(t, r, http.StatusOK, "OK")
	if id, err := readDeviceID(dev); err != nil || id != "1" {
		t.Errorf("QUOBYTE_DEV_ID: %q, %v; want 1", id, err)
	}
	_, page := get("http://" + r.Addr(PortHTTP) + "/")
	for _, want := range []string{"registry", "version:  1.0-test", "healthy:  true", dev + " id 1", "QUOBYTE_MAX_MEM_REGISTRY=1g"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q:\n%s", want, page)
		}
	}
	code, metrics := get("http://" + r.Addr(PortHTTP) + "/prometheus")
	for _, want := range []string{
		`quobyte_standin_up{service="registry",version="1.0-test"} 1`,
		`quobyte_standin_healthy{service="registry",version="1.0-test"} 1`,
		`# TYPE quobyte_standin_uptime_seconds gauge`,
		`quobyte_standin_devices{service="registry",version="1.0-test"} 1`,
	} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("/prometheus (%d) lacks %q:\n%s", code, want, metrics)
		}
	}
	if code, _ := get("http://" + r.Addr(PortHTTP) + "/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", code)
	}
}

func TestRegistryNeedsDevice(t *testing.T) {
	root := t.TempDir()
	device(t, root, "md", "METADATA_DEVICE") // the wrong type
	cfg := testConfig(t, Registry)
	cfg.DeviceRoot = root
	r := start(t, cfg)
	healthIs(t, r, http.StatusServiceUnavailable, "no DIR_DEVICE device under "+root)

	// A device that appears later is found by the next evaluation.
	device(t, root, "dir", "DIR_DEVICE")
	healthIs(t, r, http.StatusOK, "OK")
}

func TestRegistryMajority(t *testing.T) {
	root := t.TempDir()
	device(t, root, "dir", "DIR_DEVICE")
	peerCfg := testConfig(t, Registry)
	peerCfg.DeviceRoot = root
	peer := start(t, peerCfg)

	// Not listed itself: the registry is the third member of {peer, dead}.
	cfg := testConfig(t, Registry)
	cfg.DeviceRoot = root
	cfg.Registries = []string{peer.Addr(PortRPC), deadAddr(t)}
	r := start(t, cfg)
	healthIs(t, r, http.StatusOK, "OK")
	st := r.Status()
	if len(st.Peers) != 2 || !st.Peers[0].Reachable || st.Peers[0].Self || st.Peers[1].Reachable {
		t.Errorf("peers: %+v", st.Peers)
	}

	// Two dead of three: no majority.
	cfg.Registries = []string{deadAddr(t), deadAddr(t)}
	lonely := start(t, cfg)
	healthIs(t, lonely, http.StatusServiceUnavailable, "1 of 3 registries reachable, need 2")

	// A non-registry answering on a listed address does not count.
	apiCfg := testConfig(t, API)
	apiCfg.Registries = []string{peer.Addr(PortRPC)}
	api := start(t, apiCfg)
	cfg.Registries = []string{api.Addr(PortRPC)}
	r2 := start(t, cfg)
	healthIs(t, r2, http.StatusServiceUnavailable, "1 of 2 registries reachable")
	waitFor(t, 5*time.Second, "peer error", func() (bool, string) {
		st := r2.Status()
		return len(st.Peers) == 1 && strings.Contains(st.Peers[0].Err, "not a registry"), st.Reason
	})
}

func TestMajority(t *testing.T) {
	cases := []struct {
		name             string
		peers            []Peer
		reachable, total int
	}{
		{"no list", nil, 1, 1},
		{"only self", []Peer{{Reachable: true, Self: true}}, 1, 1},
		{"self and two dead", []Peer{{Reachable: true, Self: true}, {}, {}}, 1, 3},
		{"self and one of two", []Peer{{Reachable: true, Self: true}, {Reachable: true}, {}}, 2, 3},
		{"self listed twice", []Peer{{Reachable: true, Self: true}, {Reachable: true, Self: true}, {}}, 1, 2},
		{"not listed", []Peer{{Reachable: true}, {}}, 2, 3},
	}
	for _, c := range cases {
		if r, tot := majority(c.peers); r != c.reachable || tot != c.total {
			t.Errorf("%s: majority = %d of %d, want %d of %d", c.name, r, tot, c.reachable, c.total)
		}
	}
}

func TestMetadataRegistersAndCatchesUp(t *testing.T) {
	regRoot := t.TempDir()
	device(t, regRoot, "dir", "DIR_DEVICE")
	regCfg := testConfig(t, Registry)
	regCfg.DeviceRoot = regRoot
	reg := start(t, regCfg)

	root := t.TempDir()
	cfg := testConfig(t, Metadata)
	cfg.DeviceRoot = root
	cfg.Registries = []string{deadAddr(t), reg.Addr(PortRPC)}
	cfg.Catchup = 300 * time.Millisecond
	md := start(t, cfg)
	healthIs(t, md, http.StatusServiceUnavailable, "no METADATA_DEVICE device under "+root)

	d1 := device(t, root, "md1", "METADATA_DEVICE")
	d2 := device(t, root, "md2", "METADATA_DEVICE")
	healthIs(t, md, http.StatusServiceUnavailable, "catching up with registry "+reg.Addr(PortRPC))
	healthIs(t, md, http.StatusOK, "OK")
	st := md.Status()
	if st.Registry != reg.Addr(PortRPC) {
		t.Errorf("registered with %q, want %q", st.Registry, reg.Addr(PortRPC))
	}
	if since := time.Since(st.Registered); since < cfg.Catchup {
		t.Errorf("healthy %s after registration, catch-up is %s", since, cfg.Catchup)
	}
	// The registry's own device took ID 1; the two metadata devices get the next.
	ids := map[string]bool{}
	for _, d := range []string{d1, d2} {
		id, err := readDeviceID(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		ids[id] = true
	}
	if len(ids) != 2 || ids["1"] {
		t.Errorf("device IDs %v: want two distinct, not the registry's 1", ids)
	}

	// A device added later is registered too, without losing health.
	d3 := device(t, root, "md3", "METADATA_DEVICE")
	waitFor(t, 5*time.Second, "md3 registered", func() (bool, string) {
		id, err := readDeviceID(d3)
		return err == nil && id != "", "no id"
	})
	if !md.Status().Healthy {
		t.Errorf("unhealthy after a new device: %s", md.Status().Reason)
	}
}

func TestMetadataWithoutRegistry(t *testing.T) {
	root := t.TempDir()
	dev := device(t, root, "md", "METADATA_DEVICE")
	cfg := testConfig(t, Metadata)
	cfg.DeviceRoot = root
	cfg.Registries = []string{deadAddr(t)}
	md := start(t, cfg)
	healthIs(t, md, http.StatusServiceUnavailable, "no registry took the registration")
	if _, err := os.Stat(filepath.Join(dev, IDFile)); !os.IsNotExist(err) {
		t.Errorf("QUOBYTE_DEV_ID written without a registry: %v", err)
	}
}

func TestLegacyDataDevice(t *testing.T) {
	reg := start(t, registryConfig(t))
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "disk1", "quobyte-data"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, Data)
	cfg.DeviceRoot = root
	cfg.Registries = []string{reg.Addr(PortRPC)}
	healthIs(t, start(t, cfg), http.StatusOK, "OK")
	if _, err := readDeviceID(filepath.Join(root, "disk1")); err != nil {
		t.Errorf("legacy device got no QUOBYTE_DEV_ID: %v", err)
	}
}

// registryConfig is a healthy single registry with its own device.
func registryConfig(t *testing.T) Config {
	t.Helper()
	cfg := testConfig(t, Registry)
	cfg.DeviceRoot = t.TempDir()
	device(t, cfg.DeviceRoot, "dir", "DIR_DEVICE")
	return cfg
}

func TestAPI(t *testing.T) {
	// The registry starts later on a port chosen now, so that the api
	// first sees no registry at the address it was given.
	regCfg := registryConfig(t)
	regRPC := deadAddr(t)
	regCfg.Ports[PortRPC] = portOf(t, regRPC)

	cfg := testConfig(t, API)
	cfg.Registries = []string{regRPC}
	api := start(t, cfg)
	healthIs(t, api, http.StatusServiceUnavailable, "no registry reachable at "+regRPC)
	start(t, regCfg)
	healthIs(t, api, http.StatusOK, "OK")

	url := "http://" + api.Addr(PortAPI) + "/"
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"getServiceStatus","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ID     int `json:"id"`
		Result struct {
			Method  string `json:"method"`
			Service string `json:"service"`
			Healthy bool   `json:"healthy"`
		} `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || out.ID != 7 || out.Result.Method != "getServiceStatus" || out.Result.Service != "api" || !out.Result.Healthy {
		t.Errorf("JSON-RPC answer %+v, %v", out, err)
	}
	resp, err = http.Post(url, "application/json", strings.NewReader(`{broken`))
	if err != nil {
		t.Fatal(err)
	}
	var bad struct {
		Error struct{ Code int } `json:"error"`
	}
	err = json.NewDecoder(resp.Body).Decode(&bad)
	resp.Body.Close()
	if err != nil || bad.Error.Code != -32700 {
		t.Errorf("broken request: %+v, %v; want error -32700", bad, err)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebconsoleS3Client(t *testing.T) {
	reg := start(t, registryConfig(t))
	for _, c := range []struct {
		kind Kind
		port string
		want string
	}{
		{Webconsole, PortWebconsole, "Quobyte webconsole"},
		{S3, PortS3, "ListAllMyBucketsResult"},
		{Client, "", ""},
	} {
		cfg := testConfig(t, c.kind)
		cfg.Registries = []string{reg.Addr(PortRPC)}
		r := start(t, cfg)
		healthIs(t, r, http.StatusOK, "OK")
		if c.kind == Client && r.Addr(PortRPC) != "" {
			t.Errorf("client listens on RPC %s", r.Addr(PortRPC))
		}
		if c.port == "" {
			continue
		}
		if code, body := get("http://" + r.Addr(c.port) + "/"); code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("%s port: %d %q", c.kind, code, body)
		}
	}
}

func TestNeverHealthyVersion(t *testing.T) {
	cfg := registryConfig(t)
	cfg.Version = "2.0-broken"
	cfg.NeverHealthyVersion = "2.0-broken"
	r := start(t, cfg)
	healthIs(t, r, http.StatusServiceUnavailable, `version "2.0-broken" never becomes healthy`)

	cfg = registryConfig(t)
	cfg.NeverHealthyVersion = "2.0-broken" // another version is unaffected
	healthIs(t, start(t, cfg), http.StatusOK, "OK")
}

func TestStopGrace(t *testing.T) {
	cfg := registryConfig(t)
	cfg.StopGrace = 300 * time.Millisecond
	r := start(t, cfg)
	healthIs(t, r, http.StatusOK, "OK")

	stopped := time.Now()
	r.cancel()
	// Unhealthy at once: the stop is recorded before Run waits out the grace.
	healthIs(t, r, http.StatusServiceUnavailable, "shutting down")
	if err := waitDone(t, r, 5*time.Second); err != nil {
		t.Errorf("Run after stop: %v, want nil", err)
	}
	if took := time.Since(stopped); took < cfg.StopGrace {
		t.Errorf("Run returned %s after stop, grace is %s", took, cfg.StopGrace)
	}
	if code, _ := get("http://" + r.Addr(PortHTTP) + "/serviceHealth"); code != 0 {
		t.Errorf("still serving after Run returned: %d", code)
	}
}

func TestCrashAfter(t *testing.T) {
	cfg := registryConfig(t)
	cfg.CrashAfter = 200 * time.Millisecond
	r := start(t, cfg)
	if err := waitDone(t, r, 5*time.Second); !errors.Is(err, ErrCrash) {
		t.Errorf("Run = %v, want ErrCrash", err)
	}
}

func TestSlowStart(t *testing.T) {
	cfg := registryConfig(t)
	cfg.SlowStart = 300 * time.Millisecond
	begin := time.Now()
	r := start(t, cfg)
	if took := time.Since(begin); took < cfg.SlowStart {
		t.Errorf("listening after %s, slow start is %s", took, cfg.SlowStart)
	}
	healthIs(t, r, http.StatusOK, "OK")
}

func TestStopDuringSlowStart(t *testing.T) {
	cfg := registryConfig(t)
	cfg.SlowStart = time.Hour
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := svc.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if err := svc.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := registryConfig(t)
	cfg.Ports[PortHTTP] = portOf(t, ln.Addr().String())
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on http port") {
		t.Errorf("Run = %v, want a listen error", err)
	}
}

func TestRPCProtocol(t *testing.T) {
	reg := start(t, registryConfig(t))
	cfg := testConfig(t, Data)
	cfg.Registries = []string{reg.Addr(PortRPC)}
	data := start(t, cfg)
	ctx := context.Background()

	cases := []struct {
		addr, req, want string
	}{
		{reg.Addr(PortRPC), "PING", "PONG registry 1.0-test " + reg.instance},
		{data.Addr(PortRPC), "PING", "PONG data 1.0-test " + data.instance},
		{reg.Addr(PortRPC), "REGISTER data 127.0.0.1:1 0", "OK"},
		{data.Addr(PortRPC), "REGISTER data 127.0.0.1:1 0", "ERR not a registry"},
		{reg.Addr(PortRPC), "REGISTER data nowhere 1", "ERR bad address"},
		{reg.Addr(PortRPC), "REGISTER nfs 127.0.0.1:1 1", "ERR unknown kind"},
		{reg.Addr(PortRPC), "REGISTER data 127.0.0.1:1 100000", "ERR bad device count"},
		{reg.Addr(PortRPC), "HELLO", `ERR unknown command "HELLO"`},
		{reg.Addr(PortRPC), "", "ERR empty request"},
	}
	for _, c := range cases {
		got, err := rpcCall(ctx, c.addr, c.req)
		if err != nil || !strings.HasPrefix(got, c.want) {
			t.Errorf("%q -> %q, %v; want prefix %q", c.req, got, err, c.want)
		}
	}
	ids, err := register(ctx, reg.Addr(PortRPC), Data, "127.0.0.1:1", 3)
	if err != nil || len(ids) != 3 || ids[0] == ids[1] {
		t.Errorf("register 3: %v, %v", ids, err)
	}
}
