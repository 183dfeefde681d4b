package spec

import (
	"regexp"
	"strings"
	"testing"
)

// base is a spec with every block, used as the starting point of the hash
// property tests.
const base = `
mesos {
  master = "http://m1:5050"
}
quobyte {
  image   = "registry.corp:5000/quobyte/quobyte-server"
  version = "3.4.1"
  env     = { A = "1" }
}
service "api" {
  count = 1
  resources {
    cpus = 1
  }
}
service "registry" {
  args = ["--verbose"]
}
upgrade {
  max_parallel = 1
}
placement {
  hosts = ["storage-*"]
}
`

func TestHash_IgnoresFormattingCommentsAndOrder(t *testing.T) {
	reordered := `
# The same spec: blocks, attributes and services in another order,
# other spacing, comments, and some defaults written out.
placement { hosts = [ "storage-*" ] }
service "registry" {
  args    = ["--verbose"]   // trailing comment
  enabled = true
}
upgrade {
  max_parallel = 1
}
service "api" {
  resources {
    cpus = 1.0
    mem  = 1024
  }
  count = 1
}
quobyte {
  version = "3.4.1"
  env = {
    A = "1"
  }
  image = "registry.corp:5000/quobyte/quobyte-server"
  state = "running"
}
/* block comment */
mesos {
  master         = ["http://m1:5050"]
  framework_name = "quobyte"
}
`
	a, b := mustLoad(t, base), mustLoad(t, reordered)
	if a.Hash != b.Hash {
		t.Errorf("cluster hash changed with formatting: %s vs %s", a.Hash, b.Hash)
	}
	for _, k := range Kinds() {
		if a.Service(k).ConfigHash != b.Service(k).ConfigHash {
			t.Errorf("%s config hash changed with formatting", k)
		}
	}
	if a.Prober.ConfigHash != b.Prober.ConfigHash {
		t.Error("prober config hash changed with formatting")
	}
}

func TestHash_Format(t *testing.T) {
	c := mustLoad(t, base)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(c.Hash) {
		t.Errorf("cluster hash %q is not 16 lowercase hex digits", c.Hash)
	}
	configHash := regexp.MustCompile(`^[0-9a-f]{10}$`)
	seen := map[string]Kind{}
	for _, k := range Kinds() {
		h := c.Service(k).ConfigHash
		if !configHash.MatchString(h) {
			t.Errorf("%s config hash %q is not 10 lowercase hex digits", k, h)
		}
		if other, dup := seen[h]; dup {
			t.Errorf("%s and %s share config hash %s", k, other, h)
		}
		seen[h] = k
	}
	if !configHash.MatchString(c.Prober.ConfigHash) {
		t.Errorf("prober config hash %q malformed", c.Prober.ConfigHash)
	}
}

// edit replaces old (which must occur in base) with new.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base lacks %q", old)
	}
	return strings.Replace(base, old, new, 1)
}

func TestConfigHash_ChangesWithLaunchSettings(t *testing.T) {
	orig := mustLoad(t, base)
	for _, tc := range []struct {
		name, old, new string
		changed        []Kind // kinds whose hash must change; all others must not
	}{
		{"version", `version = "3.4.1"`, `version = "3.5.0"`, Kinds()},
		{"image", `image   = "registry.corp:5000/quobyte/quobyte-server"`, `image = "other/quobyte-server"`, Kinds()}, // the client falls back to the server image,
		{"client image", `version = "3.4.1"`, "version = \"3.4.1\"\n client_image = \"other/client\"", []Kind{Client}},
		{"runtime", `version = "3.4.1"`, "version = \"3.4.1\"\n runtime = \"mesos\"", Kinds()},
		{"cluster env", `env     = { A = "1" }`, `env = { A = "2" }`, Kinds()},
		{"registry override", `version = "3.4.1"`, "version = \"3.4.1\"\n registry = \"reg.corp:7861\"", Kinds()},
		{"device root", `version = "3.4.1"`, "version = \"3.4.1\"\n device_root = \"/srv\"", Kinds()},
		{"api cpus", `cpus = 1`, `cpus = 2`, []Kind{API}},
		{"api mem", `cpus = 1`, "cpus = 1\n mem = 512", []Kind{API}},
		{"api disk", `cpus = 1`, "cpus = 1\n disk = 1", []Kind{API}},
		{"api port", `count = 1`, "count = 1\n ports {\n jsonrpc = 9999\n }", []Kind{API}},
		{"api env", `count = 1`, "count = 1\n env = { B = \"x\" }", []Kind{API}},
		{"registry args", `args = ["--verbose"]`, `args = ["--quiet"]`, []Kind{Registry}},
		{"api health", `count = 1`, "count = 1\n health {\n path = \"/health\"\n }", []Kind{API}},
		{"api health grace", `count = 1`, "count = 1\n health {\n grace = \"1s\"\n }", []Kind{API}},
		{"api kill grace", `count = 1`, "count = 1\n kill_grace = \"1s\"", []Kind{API}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, edit(t, tc.old, tc.new))
			if c.Hash == orig.Hash {
				t.Error("cluster hash did not change")
			}
			want := map[Kind]bool{}
			for _, k := range tc.changed {
				want[k] = true
			}
			for _, k := range Kinds() {
				if got := c.Service(k).ConfigHash != orig.Service(k).ConfigHash; got != want[k] {
					t.Errorf("%s config hash changed = %v, want %v", k, got, want[k])
				}
			}
		})
	}
}

func TestConfigHash_IgnoresWhereHowManyAndWhen(t *testing.T) {
	orig := mustLoad(t, base)
	for _, tc := range []struct{ name, old, new string }{
		{"count", `count = 1`, `count = 3`},
		{"service hosts", `count = 1`, "count = 1\n hosts = [\"web-*\"]"},
		{"enabled", `args = ["--verbose"]`, "args = [\"--verbose\"]\n enabled = true\n}\nservice \"s3\" {\n enabled = true"},
		{"restart", `count = 1`, "count = 1\n restart {\n max_delay = \"1m\"\n }"},
		{"upgrade", `max_parallel = 1`, `max_parallel = 2`},
		{"placement", `hosts = ["storage-*"]`, `hosts = ["node-*"]`},
		{"state", `version = "3.4.1"`, "version = \"3.4.1\"\n state = \"stopped\""},
		{"mesos", `master = "http://m1:5050"`, "master = \"http://m2:5050\"\n role = \"other\""},
		{"prober", `max_parallel = 1`, "max_parallel = 1\n}\nprober {\n interval = \"5s\""},
		{"unused command", `version = "3.4.1"`, "version = \"3.4.1\"\n command = \"/bin/x\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustLoad(t, edit(t, tc.old, tc.new))
			if c.Hash == orig.Hash {
				t.Error("cluster hash did not change")
			}
			for _, k := range Kinds() {
				if c.Service(k).ConfigHash != orig.Service(k).ConfigHash {
					t.Errorf("%s config hash changed", k)
				}
			}
		})
	}
}

func TestProberConfigHash(t *testing.T) {
	orig := mustLoad(t, base)
	changed := mustLoad(t, base+"prober {\n mode = \"directories\"\n}\n")
	if changed.Prober.ConfigHash == orig.Prober.ConfigHash {
		t.Error("prober config hash ignores the mode")
	}
	root := mustLoad(t, edit(t, `version = "3.4.1"`, "version = \"3.4.1\"\n device_root = \"/srv\""))
	if root.Prober.ConfigHash == orig.Prober.ConfigHash {
		t.Error("prober config hash ignores the device root")
	}
	other := mustLoad(t, edit(t, `cpus = 1`, `cpus = 2`))
	if other.Prober.ConfigHash != orig.Prober.ConfigHash {
		t.Error("prober config hash changed with a service setting")
	}
}

func TestConfigHash_CommandRuntimeIgnoresImage(t *testing.T) {
	cmd := func(image string) *Cluster {
		return mustLoad(t, "mesos { master = \"http://m:5050\" }\nquobyte {\n runtime = \"command\"\n command = \"bin/standin\"\n"+image+"}\n")
	}
	a, b := cmd(""), cmd("image = \"a/b\"\n")
	if a.Service(Data).ConfigHash != b.Service(Data).ConfigHash {
		t.Error("the unused image changed the command runtime's config hash")
	}
}
