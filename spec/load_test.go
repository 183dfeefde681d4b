package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

const minimal = `
mesos   { master = "http://m1:5050" }
quobyte {
  image   = "registry.corp:5000/quobyte/quobyte-server"
  version = "3.4.1"
}
`

// mustLoad loads src and fails the test on any error diagnostic.
func mustLoad(t *testing.T, src string) *Cluster {
	t.Helper()
	c, diags := LoadBytes([]byte(src), "t.hcl")
	if diags.HasErrors() || c == nil {
		var buf bytes.Buffer
		_ = FormatDiagnostics(&buf, map[string][]byte{"t.hcl": []byte(src)}, diags)
		t.Fatalf("unexpected errors:\n%s", buf.String())
	}
	return c
}

func TestLoad_Examples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found (err %v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, diags := Load(f)
			if len(diags) > 0 {
				src, _ := os.ReadFile(f)
				var buf bytes.Buffer
				_ = FormatDiagnostics(&buf, map[string][]byte{f: src}, diags)
				t.Fatalf("example has diagnostics:\n%s", buf.String())
			}
			if c == nil || c.File != f {
				t.Fatalf("cluster %v, want one loaded from %s", c, f)
			}
		})
	}
}

func TestLoad_MinimalSpecGetsEveryDefault(t *testing.T) {
	c := mustLoad(t, minimal)
	want := &Cluster{
		File: "t.hcl",
		Mesos: Mesos{
			Masters:          []string{"http://m1:5050"},
			FrameworkName:    "quobyte",
			Role:             "quobyte",
			FailoverTimeout:  672 * time.Hour,
			FrameworkIDStore: "file:///var/lib/quobyte-mesos/framework-id",
		},
		Quobyte: Quobyte{
			State:      Running,
			Version:    "3.4.1",
			Image:      "registry.corp:5000/quobyte/quobyte-server",
			Runtime:    Docker,
			DeviceRoot: "/mnt",
			Address:    AddressHostname,
			Env:        map[string]string{},
		},
		Prober: Prober{
			Interval:         2 * time.Minute,
			Mode:             "mounts",
			Artifact:         "framework",
			ClientMountPoint: "/quobyte",
			Resources:        Resources{CPUs: 0.1, Mem: 64},
		},
		Upgrade: Upgrade{
			Order:           []Kind{Registry, API, Webconsole, S3, Metadata, Data, Client},
			MaxParallel:     1,
			MinHealthyTime:  30 * time.Second,
			HealthyDeadline: 5 * time.Minute,
			AutoRevert:      []Kind{Registry, Metadata},
		},
		Placement: Placement{
			Hosts:              []string{},
			Attributes:         map[string]string{},
			UnreachableTimeout: 10 * time.Minute,
		},
		HA:       HA{SessionTimeout: 10 * time.Second},
		Services: map[Kind]*Service{},
	}
	health := Health{Path: "/serviceHealth", Interval: 10 * time.Second, Timeout: 5 * time.Second, Grace: 2 * time.Minute, MaxFailures: 3}
	restart := Restart{InitialDelay: time.Second, MaxDelay: 5 * time.Minute, ResetAfter: 10 * time.Minute}
	for _, tc := range []struct {
		kind    Kind
		enabled bool
		count   int
		res     Resources
		ports   map[string]int
	}{
		{Registry, true, 0, Resources{1, 2048, 64}, map[string]int{"rpc": 7861, "http": 7871}},
		{Metadata, true, 0, Resources{2, 4096, 64}, map[string]int{"rpc": 7862, "http": 7872}},
		{Data, true, 0, Resources{2, 4096, 64}, map[string]int{"rpc": 7863, "http": 7873}},
		{API, true, 1, Resources{0.5, 1024, 64}, map[string]int{"rpc": 7865, "http": 7875, "jsonrpc": 7860}},
		{Webconsole, true, 1, Resources{0.5, 1024, 64}, map[string]int{"rpc": 7864, "http": 7874, "ui": 8080}},
		{S3, false, 1, Resources{1, 2048, 64}, map[string]int{"rpc": 7867, "http": 7877, "s3": 8000}},
		{Client, false, 0, Resources{1, 2048, 64}, map[string]int{"http": 55000}},
	} {
		want.Services[tc.kind] = &Service{
			Kind: tc.kind, Enabled: tc.enabled, Count: tc.count, Resources: tc.res, Ports: tc.ports,
			Health: health, Restart: restart, KillGrace: 30 * time.Second,
			Env: map[string]string{}, Args: []string{}, Hosts: []string{},
			Capabilities: []string{}, Devices: []string{},
		}
	}
	// Least privilege: only the client has any (FUSE).
	want.Services[Client].Capabilities, want.Services[Client].Devices = []string{"SYS_ADMIN"}, []string{"/dev/fuse"}
	ignoreHashes := cmp.Options{
		cmpopts.IgnoreFields(Cluster{}, "Hash"),
		cmpopts.IgnoreFields(Service{}, "ConfigHash"),
		cmpopts.IgnoreFields(Prober{}, "ConfigHash"),
	}
	if diff := cmp.Diff(want, c, ignoreHashes); diff != "" {
		t.Errorf("defaults differ (-want +got):\n%s", diff)
	}
	if c.ImageRef(Registry) != "registry.corp:5000/quobyte/quobyte-server:3.4.1" {
		t.Errorf("ImageRef(registry) = %q", c.ImageRef(Registry))
	}
}

func TestLoad_SettingsOverrideDefaults(t *testing.T) {
	c := mustLoad(t, `
mesos {
  master             = "zk://zk1:2181,zk2:2181/mesos"
  role               = "storage/quobyte"
  principal          = "qb"
  secret_file        = "/etc/secret"
  framework_id_store = "zk://zk1:2181/qm/fwid"
}
quobyte {
  state = "stopped"
  runtime = "command"
  command = "bin/quobyte-standin"
  env = { A = "1" }
}
prober {
  interval    = "10s"
  mode        = "directories"
  device_root = "/srv/dev"
}
service "api" {
  count = 3
  env   = { B = "2" }
  args  = ["--x"]
  hosts = ["web-*"]
  ports { jsonrpc = 9000 }
  health {
    grace        = "0s"
    max_failures = 1
  }
}
service "s3" { enabled = true }
upgrade { order = ["data", "metadata", "registry", "api", "webconsole", "s3"] }
placement {
  hosts = ["storage-*"]
  attributes = { rack = "r1" }
}
ha {
  zookeeper       = "zk://zk1:2181,zk2:2181/quobyte-mesos"
  session_timeout = "4s"
}
`)
	if want := (HA{Zookeeper: "zk://zk1:2181,zk2:2181/quobyte-mesos", SessionTimeout: 4 * time.Second}); c.HA != want || !c.HA.Enabled() {
		t.Errorf("ha = %+v, want %+v", c.HA, want)
	}
	if c.Mesos.ZK != "zk://zk1:2181,zk2:2181/mesos" || c.Mesos.Masters != nil {
		t.Errorf("masters %v zk %q", c.Mesos.Masters, c.Mesos.ZK)
	}
	if c.Quobyte.State != Stopped || c.Quobyte.Runtime != Command || c.Quobyte.DeviceRoot != "/srv/dev" {
		t.Errorf("quobyte = %+v", c.Quobyte)
	}
	api := c.Service(API)
	if api.Count != 3 || api.Ports["jsonrpc"] != 9000 || api.Ports["http"] != 7875 || api.Health.Grace != 0 || api.Health.MaxFailures != 1 {
		t.Errorf("api = %+v", api)
	}
	if got := EffectiveEnv(c, API); !cmp.Equal(got, map[string]string{"A": "1", "B": "2"}) {
		t.Errorf("effective env = %v", got)
	}
	if !c.Service(S3).Enabled {
		t.Error("s3 not enabled")
	}
	// Disabled kinds left out of the order are appended in default order.
	wantOrder := []Kind{Data, Metadata, Registry, API, Webconsole, S3, Client}
	if !cmp.Equal(c.Upgrade.Order, wantOrder) {
		t.Errorf("order = %v, want %v", c.Upgrade.Order, wantOrder)
	}
	if c.Prober.Mode != "directories" || c.Prober.Interval != 10*time.Second {
		t.Errorf("prober = %+v", c.Prober)
	}
}

func TestLoad_MasterList(t *testing.T) {
	c := mustLoad(t, strings.Replace(minimal, `"http://m1:5050"`, `["http://m1:5050", "https://m2:5050"]`, 1))
	if !cmp.Equal(c.Mesos.Masters, []string{"http://m1:5050", "https://m2:5050"}) {
		t.Errorf("masters = %v", c.Mesos.Masters)
	}
}

// TestLoad_Rules checks each validation rule: the error's summary and that
// it points at the offending text.
func TestLoad_Rules(t *testing.T) {
	// HCL allows one attribute per one-line block, so nested blocks take
	// lines of their own. m is line 1, q lines 2-5, additions start at 6.
	const m = `mesos { master = "http://m:5050" }` + "\n"
	const q = "quobyte {\n  image   = \"quobyte/server\"\n  version = \"1\"\n}\n"
	mesos := func(attrs string) string { return "mesos {\n" + attrs + "\n}\n" }         // attrs at line 2
	quobyte := func(attrs string) string { return m + "quobyte {\n" + attrs + "\n}\n" } // attrs at line 3
	for _, tc := range []struct {
		name, src, summary string
		at                 string // "line:column" of the diagnostic's start
	}{
		{"missing mesos", q, "Missing mesos block", ""},
		{"missing master", "mesos {}\n" + q, "Missing mesos.master", "1:7"},
		{"missing quobyte", m, "Missing quobyte block", ""},
		{"missing image", quobyte(`version = "1"`), "Missing quobyte.image", "2:9"},
		{"command runtime needs command", quobyte(`runtime = "command"`), "Missing quobyte.command", "2:9"},
		{"unknown runtime", quobyte("image = \"a/b\"\nruntime = \"podman\""), "Unknown runtime", "4:11"},
		{"unknown state", quobyte("image = \"a/b\"\nstate = \"paused\""), "Unknown state", "4:9"},
		{"unknown address", quobyte("image = \"a/b\"\naddress = \"dns\""), "Unknown address", "4:11"},
		{"image with tag", quobyte(`image = "a/b:1.0"`), "Invalid image reference", "3:9"},
		{"image with digest", quobyte(`image = "a/b@sha256:00"`), "Invalid image reference", "3:9"},
		{"image uppercase", quobyte(`image = "Quobyte/Server"`), "Invalid image reference", "3:9"},
		{"image spaces", quobyte(`image = "a b"`), "Invalid image reference", "3:9"},
		{"client image", quobyte("image = \"a/b\"\nclient_image = \"a/c:2\""), "Invalid image reference", "4:16"},
		{"bad version", quobyte("image = \"a/b\"\nversion = \"1 2\""), "Invalid version", "4:11"},
		{"env name", quobyte("image = \"a/b\"\nenv = { \"1X\" = \"v\" }"), "Invalid environment variable name", "4:9"},
		{"master ftp", mesos(`master = "ftp://m:5050"`) + q, "Invalid master URL", "2:10"},
		{"master no host", mesos(`master = "http://"`) + q, "Invalid master URL", "2:10"},
		{"master bad port", mesos(`master = "http://m:99999"`) + q, "Invalid master URL", "2:10"},
		{"master credentials", mesos(`master = "http://u:p@m:5050"`) + q, "Invalid master URL", "2:10"},
		{"master list ftp", mesos(`master = ["http://a:1", "ftp://b"]`) + q, "Invalid master URL", "2:25"},
		{"master zk in list", mesos(`master = ["zk://z:2181/mesos"]`) + q, "ZooKeeper URL in a master list", "2:11"},
		{"master zk no path", mesos(`master = "zk://z:2181"`) + q, "Invalid ZooKeeper master URL", "2:10"},
		{"master zk no host", mesos(`master = "zk:///mesos"`) + q, "Invalid ZooKeeper master URL", "2:10"},
		{"master empty list", mesos(`master = []`) + q, "No master", "2:10"},
		{"master nested list", mesos(`master = [[1]]`) + q, "Invalid master", "2:10"},
		{"bad failover", mesos("master = \"http://m:5050\"\nfailover_timeout = \"4 weeks\""), "Invalid duration", "3:20"},
		{"zero failover", mesos("master = \"http://m:5050\"\nfailover_timeout = \"0s\""), "Duration must be positive", "3:20"},
		{"store path", mesos("master = \"http://m:5050\"\nframework_id_store = \"/var/x\""), "Invalid framework ID store", "3:22"},
		{"store with host", mesos("master = \"http://m:5050\"\nframework_id_store = \"file://var/x\""), "Invalid framework ID store", "3:22"},
		{"store zk no path", mesos("master = \"http://m:5050\"\nframework_id_store = \"zk://z:1\""), "Invalid framework ID store", "3:22"},
		{"secret without principal", mesos("master = \"http://m:5050\"\nsecret_file = \"/s\""), "Secret without principal", "3:15"},
		{"bad role", mesos("master = \"http://m:5050\"\nrole = \"-x\""), "Invalid Mesos role", "3:8"},
		{"empty name", mesos("master = \"http://m:5050\"\nframework_name = \"\""), "Empty value", "3:18"},
		{"unknown attribute", m + q + `prober { intervall = "1m" }`, "Unsupported argument", "6:10"},
		{"unknown block", m + q + `frobnicate {}`, "Unsupported block type", "6:1"},
		{"duplicate block", m + q + "upgrade {}\nupgrade {}", "Duplicate upgrade block", "7:1"},
		{"unknown kind", m + q + `service "regsitry" {}`, "Unknown service kind", "6:9"},
		{"duplicate service", m + q + "service \"api\" {}\nservice \"api\" {}", "Duplicate service block", "7:9"},
		{"negative cpus", m + q + "service \"api\" {\n  resources { cpus = -1 }\n}", "Invalid resource", "7:22"},
		{"zero mem", m + q + "service \"api\" {\n  resources { mem = 0 }\n}", "Invalid resource", "7:21"},
		{"negative disk", m + q + "service \"api\" {\n  resources { disk = -5 }\n}", "Invalid resource", "7:22"},
		{"zero prober cpus", m + q + "prober {\n  resources { cpus = 0 }\n}", "Invalid resource", "7:22"},
		{"cpus not a number", m + q + "service \"api\" {\n  resources { cpus = \"x\" }\n}", "Unsuitable value type", "7:23"},
		{"negative count", m + q + `service "api" { count = -1 }`, "Negative count", "6:25"},
		{"fractional count", m + q + `service "api" { count = 1.5 }`, "Unsuitable value type", "6:25"},
		{"bad health duration", m + q + "service \"api\" {\n  health { interval = \"soon\" }\n}", "Invalid duration", "7:23"},
		{"health path", m + q + "service \"api\" {\n  health { path = \"health\" }\n}", "Invalid health path", "7:19"},
		{"max failures", m + q + "service \"api\" {\n  health { max_failures = 0 }\n}", "Invalid max_failures", "7:27"},
		{"negative kill grace", m + q + `service "api" { kill_grace = "-1s" }`, "Duration must not be negative", "6:30"},
		{"restart reversed", m + q + "service \"api\" {\n  restart {\n    initial_delay = \"1m\"\n    max_delay = \"1s\"\n  }\n}", "Restart delays reversed", "9:17"},
		{"unknown port", m + q + "service \"registry\" {\n  ports { ui = 1 }\n}", "Unknown port", "7:11"},
		{"port range", m + q + "service \"registry\" {\n  ports { rpc = 70000 }\n}", "Invalid port", "7:17"},
		{"port clash", m + q + "service \"api\" {\n  ports { http = 7871 }\n}", "Port clash", "7:18"},
		{"port clash within kind", m + q + "service \"api\" {\n  ports { http = 7865 }\n}", "Port clash", "7:18"},
		{"service env name", m + q + `service "api" { env = { "A-B" = "v" } }`, "Invalid environment variable name", "6:25"},
		{"bad host glob", m + q + `placement { hosts = ["ok-*", "[x"] }`, "Invalid host pattern", "6:30"},
		{"bad service glob", m + q + `service "api" { hosts = [""] }`, "Invalid host pattern", "6:26"},
		{"order repeats", m + q + `upgrade { order = ["registry", "api", "webconsole", "metadata", "data", "api"] }`, "Kind repeated in upgrade order", "6:73"},
		{"order unknown", m + q + `upgrade { order = ["registry", "api", "webconsole", "metadata", "data", "nfs"] }`, "Unknown service kind", "6:73"},
		{"order missing", m + q + `upgrade { order = ["registry", "api"] }`, "Upgrade order incomplete", "6:19"},
		{"max parallel", m + q + `upgrade { max_parallel = 0 }`, "Invalid max_parallel", "6:26"},
		{"deadline short", m + q + "upgrade {\n  min_healthy_time = \"5m\"\n  healthy_deadline = \"1m\"\n}", "Healthy deadline too short", "8:22"},
		{"auto_revert stateless", m + q + `upgrade { auto_revert = ["registry", "api"] }`, "Kind cannot auto-revert", "6:38"},
		{"auto_revert unknown", m + q + `upgrade { auto_revert = ["nfs"] }`, "Unknown service kind", "6:26"},
		{"prober mode", m + q + `prober { mode = "udev" }`, "Unknown mode", "6:17"},
		{"prober artifact", m + q + `prober { artifact = "ftp" }`, "Unknown artifact", "6:21"},
		{"prober interval", m + q + `prober { interval = "0s" }`, "Duration must be positive", "6:21"},
		{"device root twice", quobyte("image = \"a/b\"\ndevice_root = \"/a\"") + `prober { device_root = "/b" }`, "Device root set twice", "6:24"},
		{"device root unclean", quobyte("image = \"a/b\"\ndevice_root = \"/a/\""), "Unclean device root", "4:15"},
		{"no registry", m + q + `service "registry" { enabled = false }`, "No registry", "6:1"},
		{"unreachable", m + q + `placement { unreachable_timeout = "0s" }`, "Duration must be positive", "6:35"},
		{"variables", m + q + `service "api" { count = var.n }`, "Variables not allowed", "6:25"},
		{"functions", m + q + `service "api" { count = max(1, 2) }`, "Function calls not allowed", "6:25"},
		{"empty auth file", m + q + `status_api { auth_file = "" }`, "Empty value", "6:26"},
		{"ha without zookeeper", m + q + `ha { session_timeout = "5s" }`, "Missing ha.zookeeper", "6:1"},
		{"ha zookeeper not zk", m + q + `ha { zookeeper = "http://zk:2181/x" }`, "Invalid ZooKeeper URL", "6:18"},
		{"ha zookeeper no path", m + q + `ha { zookeeper = "zk://zk:2181" }`, "Invalid ZooKeeper URL", "6:18"},
		{"ha empty zookeeper", m + q + `ha { zookeeper = "" }`, "Empty value", "6:18"},
		{"ha session timeout short", m + q + "ha {\n  zookeeper = \"zk://zk/q\"\n  session_timeout = \"100ms\"\n}", "Session timeout out of range", "8:21"},
		{"ha session timeout long", m + q + "ha {\n  zookeeper = \"zk://zk/q\"\n  session_timeout = \"1h\"\n}", "Session timeout out of range", "8:21"},
		{"ha session timeout zero", m + q + "ha {\n  zookeeper = \"zk://zk/q\"\n  session_timeout = \"0s\"\n}", "Duration must be positive", "8:21"},
		{"version number", quobyte("image = \"a/b\"\nversion = 3.10"), "String expected", "4:11"},
		{"version bool", quobyte("image = \"a/b\"\nversion = true"), "String expected", "4:11"},
		{"image number", quobyte("image = 7"), "String expected", "3:9"},
		{"env value number", quobyte("image = \"a/b\"\nenv = { A = 1 }"), "String expected", "4:13"},
		{"service env value bool", m + q + `service "api" { env = { A = "x", B = false } }`, "String expected", "6:38"},
		{"args element number", m + q + `service "api" { args = ["-v", 2] }`, "String expected", "6:31"},
		{"hosts element number", m + q + `service "api" { hosts = [1] }`, "String expected", "6:26"},
		{"order element number", m + q + `upgrade { order = [1] }`, "String expected", "6:20"},
		{"attribute value number", m + q + `placement { attributes = { rack = 3 } }`, "String expected", "6:35"},
		{"master number", mesos(`master = 5050`) + q, "String expected", "2:10"},
		{"master list number", mesos(`master = ["http://a:1", 5050]`) + q, "String expected", "2:25"},
		{"duration number", m + q + `service "api" { kill_grace = 30 }`, "String expected", "6:30"},
		{"negative number", quobyte("image = \"a/b\"\nversion = -1"), "String expected", "4:11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := LoadBytes([]byte(tc.src), "t.hcl")
			if c != nil {
				t.Errorf("got a cluster despite errors")
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Summary == tc.summary {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("no error %q among:\n%s", tc.summary, listDiags(diags))
			}
			if tc.at == "" {
				return
			}
			if found.Subject == nil {
				t.Fatalf("error %q has no position", tc.summary)
			}
			if got := Position(*found.Subject); got != "t.hcl:"+tc.at {
				t.Errorf("error %q at %s, want t.hcl:%s\n%s", tc.summary, got, tc.at, tc.src)
			}
		})
	}
}

func listDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = Position(*d.Subject)
		}
		b.WriteString("  " + pos + " " + d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

func TestLoad_Warnings(t *testing.T) {
	for _, tc := range []struct{ name, src, summary string }{
		{"unpinned version", `mesos { master = "http://m:5050" }` + "\n" + `quobyte { image = "a/b" }`, "No version pinned"},
		{"command ignored", `mesos { master = "http://m:5050" }` + "\n" + "quobyte {\nimage = \"a/b\"\nversion = \"1\"\ncommand = \"x\"\n}", "Command ignored"},
		{"count ignored", minimal + `service "data" { count = 3 }`, "Count ignored"},
		{"ha with a file store", minimal + `ha { zookeeper = "zk://zk1:2181/quobyte-mesos" }`, "Framework ID in a local file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := LoadBytes([]byte(tc.src), "t.hcl")
			if c == nil || diags.HasErrors() {
				t.Fatalf("want a valid cluster, got errors:\n%s", listDiags(diags))
			}
			if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != tc.summary {
				t.Fatalf("want one warning %q, got:\n%s", tc.summary, listDiags(diags))
			}
		})
	}
}

// TestLoad_ReportsEveryMistake: one file, several independent mistakes, all
// reported in one go with their positions, in file order.
func TestLoad_ReportsEveryMistake(t *testing.T) {
	src := `mesos {
  master           = "ftp://m1:5050"
  failover_timeout = "two weeks"
}
quobyte {
  image = "registry.corp:5000/quobyte-server:3.4"
  state = "paused"
}
service "regsitry" {}
service "api" {
  resources { cpus = -1 }
  ports { http = 7871 }
}
upgrade {
  order = ["registry", "registry"]
}
`
	_, diags := LoadBytes([]byte(src), "bad.hcl")
	want := []string{
		"bad.hcl:2:22 Invalid master URL",
		"bad.hcl:3:22 Invalid duration",
		"bad.hcl:6:11 Invalid image reference",
		"bad.hcl:6:11 No version pinned",
		"bad.hcl:7:11 Unknown state",
		"bad.hcl:9:9 Unknown service kind",
		"bad.hcl:11:22 Invalid resource",
		"bad.hcl:12:18 Port clash",
		"bad.hcl:15:11 Upgrade order incomplete",
		"bad.hcl:15:24 Kind repeated in upgrade order",
	}
	var got []string
	for _, d := range diags {
		got = append(got, Position(*d.Subject)+" "+d.Summary)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics differ (-want +got):\n%s", diff)
	}
}

func TestReadFile_BadInput(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.hcl")
	if err := os.WriteFile(huge, bytes.Repeat([]byte("# padding\n"), MaxFileSize/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, summary string }{
		{"missing", filepath.Join(dir, "nope.hcl"), "Spec file not found"},
		{"directory", dir, "Spec file is a directory"},
		{"huge", huge, "Spec file too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := Load(tc.path)
			if c != nil || len(diags) != 1 || diags[0].Summary != tc.summary {
				t.Fatalf("want one error %q, got:\n%s", tc.summary, listDiags(diags))
			}
			if !strings.Contains(diags[0].Detail, tc.path) {
				t.Errorf("detail %q does not name the file", diags[0].Detail)
			}
		})
	}
}

func TestLoadBytes_BadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     []byte
		summary string
	}{
		{"empty", nil, "Empty spec"},
		{"comments only", []byte("# nothing yet\n\n// still nothing\n"), "Empty spec"},
		{"binary", []byte("mesos {\x00\x01\x02\xff}"), "Not a text file"},
		{"invalid utf8", []byte("mesos { master = \"\xc3\x28\" }"), "Not a text file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := LoadBytes(tc.src, "t.hcl")
			if c != nil || len(diags) != 1 || diags[0].Summary != tc.summary {
				t.Fatalf("want one error %q, got:\n%s", tc.summary, listDiags(diags))
			}
		})
	}
	// A syntax error is reported alone, with its position.
	_, diags := LoadBytes([]byte("mesos {\n  master = \n}\n"), "t.hcl")
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
		t.Fatalf("syntax error not reported at line 2:\n%s", listDiags(diags))
	}
}

func TestFormatDiagnostics_PositionSnippetDetail(t *testing.T) {
	src := []byte(`mesos { master = "http://m:5050" }
quobyte {
  image = "a/b"
  state = "paused"
}
`)
	_, diags := LoadBytes(src, "t.hcl")
	var buf bytes.Buffer
	if err := FormatDiagnostics(&buf, map[string][]byte{"t.hcl": src}, diags); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Error: t.hcl:4:11: Unknown state",
		`   4:   state = "paused"`,
		"in quobyte",
		`state = "paused" is not one of: "running", "stopped".`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without sources: positions still, no snippet.
	buf.Reset()
	if err := FormatDiagnostics(&buf, nil, diags); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "t.hcl:4:11: Unknown state") || strings.Contains(buf.String(), `   4:   state`) {
		t.Errorf("unexpected output without sources:\n%s", buf.String())
	}
}

func TestLoad_SuggestsKindForTypo(t *testing.T) {
	_, diags := LoadBytes([]byte(minimal+`service "regsitry" {}`), "t.hcl")
	if len(diags) != 1 || !strings.HasSuffix(diags[0].Detail, `Did you mean "registry"?`) {
		t.Fatalf("no suggestion:\n%s", listDiags(diags))
	}
	_, diags = LoadBytes([]byte(minimal+`service "nfs" {}`), "t.hcl")
	if len(diags) != 1 || strings.Contains(diags[0].Detail, "Did you mean") {
		t.Fatalf("suggestion for a far-off name:\n%s", listDiags(diags))
	}
}

func TestLoad_ExternalRegistryAllowsDisablingRegistry(t *testing.T) {
	c := mustLoad(t, strings.Replace(minimal, `version = "3.4.1"`, "version = \"3.4.1\"\n  registry = \"reg1.corp,reg2.corp\"", 1)+`service "registry" { enabled = false }`)
	if c.Service(Registry).Enabled || c.Quobyte.Registry != "reg1.corp,reg2.corp" {
		t.Errorf("registry %+v, quobyte.registry %q", c.Service(Registry), c.Quobyte.Registry)
	}
}

func TestLoad_DisabledKindsNeedNoPlaceInOrder(t *testing.T) {
	// The issue's own sketch leaves s3 and client (off by default) out.
	c := mustLoad(t, minimal+`upgrade { order = ["registry", "metadata", "data", "api", "webconsole"] }`)
	want := []Kind{Registry, Metadata, Data, API, Webconsole, S3, Client}
	if !cmp.Equal(c.Upgrade.Order, want) {
		t.Errorf("order %v, want %v", c.Upgrade.Order, want)
	}
	// Once enabled, a kind must be placed.
	_, diags := LoadBytes([]byte(minimal+"upgrade { order = [\"registry\", \"metadata\", \"data\", \"api\", \"webconsole\"] }\nservice \"s3\" { enabled = true }"), "t.hcl")
	if !diags.HasErrors() || diags[0].Summary != "Upgrade order incomplete" || !strings.Contains(diags[0].Detail, `"s3"`) {
		t.Errorf("enabled s3 missing from the order not reported:\n%s", listDiags(diags))
	}
}

func TestLoadWithSource_DiagnosticsText(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.hcl")
	src := []byte(minimal + "service \"api\" { count = -2 }\n")
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	c, got, diags := LoadWithSource(p)
	if c != nil || !bytes.Equal(got, src) || len(diags) != 1 {
		t.Fatalf("cluster %v, source %q, diags:\n%s", c, got, listDiags(diags))
	}
	text := DiagnosticsText(map[string][]byte{p: got}, diags)
	for _, want := range []string{p + ":7:25: Negative count", `   7: service "api" { count = -2 }`} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// A number where a string belongs is an error that shows what was written
// and how to quote it: unquoted, 3.10 silently became "3.1".
func TestLoad_NumberInStringFieldSaysHowToQuoteIt(t *testing.T) {
	src := "mesos { master = \"http://m:5050\" }\nquobyte {\n  image   = \"a/b\"\n  version = 3.10\n}\n"
	c, diags := LoadBytes([]byte(src), "t.hcl")
	if c != nil || len(diags) != 1 {
		t.Fatalf("want one error, got:\n%s", listDiags(diags))
	}
	d := diags[0]
	if d.Summary != "String expected" || Position(*d.Subject) != "t.hcl:4:13" ||
		!strings.Contains(d.Detail, `it would become "3.1"`) || !strings.HasSuffix(d.Detail, `Quote it: version = "3.10"`) {
		t.Errorf("got %s %s: %s", Position(*d.Subject), d.Summary, d.Detail)
	}
}
