package spec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff_PathsAndValues(t *testing.T) {
	old := mustLoad(t, `
mesos { master = "http://m1:5050" }
quobyte {
  image   = "a/b"
  version = "local"
  env     = { A = "1", B = "2" }
}
service "data" {
  resources { mem = 4096 }
}
`)
	new := mustLoad(t, `
mesos { master = ["http://m1:5050", "http://m2:5050"] }
quobyte {
  image   = "a/b"
  version = "local-2"
  env     = { A = "1", C = "3" }
}
service "data" {
  resources { mem = 8192 }
  health { grace = "1h30m" }
}
upgrade { order = ["registry", "api", "webconsole", "data", "metadata"] }
`)
	want := []string{
		`mesos.master: "http://m1:5050" -> ["http://m1:5050", "http://m2:5050"]`,
		`quobyte.env.B: "2" -> (unset)`,
		`quobyte.env.C: (unset) -> "3"`,
		`quobyte.version: "local" -> "local-2"`,
		`service.data.health.grace: "2m" -> "1h30m"`,
		`service.data.resources.mem: 4096 -> 8192`,
		`upgrade.order: ["registry", "api", "webconsole", "s3", "metadata", "data", "client"] -> ["registry", "api", "webconsole", "data", "metadata", "s3", "client"]`,
	}
	if diff := cmp.Diff(strings.Join(want, "\n"), DiffText(old, new)); diff != "" {
		t.Errorf("DiffText (-want +got):\n%s", diff)
	}
	if got := DiffText(new, new); got != "" {
		t.Errorf("a spec differs from itself: %s", got)
	}
}

// Diff and the spec hash agree: no change exactly when the hash is equal,
// whatever setting changed (so a new setting cannot be missed by one and
// seen by the other).
func TestDiff_AgreesWithHash(t *testing.T) {
	orig := mustLoad(t, base)
	for _, edit := range []struct{ old, new string }{
		{`master = "http://m1:5050"`, `master = "zk://z1:2181/mesos"`},
		{`master = "http://m1:5050"`, "master = \"http://m1:5050\"\nframework_id_store = \"zk://z:2181/fw\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\ndevice_root = \"/srv\""},
		{`env     = { A = "1" }`, `env     = { A = "2" }`},
		{"count = 1", "count = 3"},
		{"count = 1", "kill_grace = \"1m\""},
		{"count = 1", "ports {\nhttp = 9000\n}"},
		{"cpus = 1", "cpus = 1.5"},
		{`args = ["--verbose"]`, `args = []`},
		{"max_parallel = 1", "max_parallel = 2"},
		{`hosts = ["storage-*"]`, `hosts = ["n*"]`},
		{"placement {", "prober {\ninterval = \"30s\"\n}\nplacement {"},
		{"placement {", "service \"s3\" {\nenabled = true\n}\nplacement {"},
		{"count = 1", "count = 1\nenabled = true"}, // a default written out: no change
	} {
		t.Run(edit.new, func(t *testing.T) {
			if !strings.Contains(base, edit.old) {
				t.Fatalf("base lacks %q", edit.old)
			}
			c := mustLoad(t, strings.Replace(base, edit.old, edit.new, 1))
			changes := Diff(orig, c)
			if (len(changes) == 0) != (c.Hash == orig.Hash) {
				t.Errorf("%d changes but hash equal=%v: %v", len(changes), c.Hash == orig.Hash, changes)
			}
		})
	}
}

// Every path Diff names is made of names the spec language has: block and
// attribute names, service kinds, and keys of env, ports and attributes.
func TestDiff_PathsAreSpecNames(t *testing.T) {
	names := map[string]bool{"service": true}
	for _, k := range Kinds() {
		names[string(k)] = true
	}
	collectHCLNames(reflect.TypeFor[rawFile](), names)
	c := mustLoad(t, base)
	for path := range settings(c) {
		segs := strings.Split(path, ".")
		for i, seg := range segs {
			if i > 0 && (segs[i-1] == "env" || segs[i-1] == "ports" || segs[i-1] == "attributes") {
				continue // a key the operator chose
			}
			if !names[seg] {
				t.Errorf("path %q: %q is not a name of the spec language", path, seg)
			}
		}
	}
}

func collectHCLNames(t reflect.Type, names map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		name, kind, _ := strings.Cut(t.Field(i).Tag.Get("hcl"), ",")
		if name != "" && kind != "label" {
			names[name] = true
		}
		if kind == "block" {
			collectHCLNames(t.Field(i).Type, names)
		}
	}
}

// ConfigDiff names a change exactly when it changes the kind's config
// hash, and ProberDiff exactly when it changes the prober's: the reasons of
// a rolling replacement can never say "nothing changed" for a replacement,
// nor name a setting that replaces nothing.
func TestConfigDiff_AgreesWithConfigHash(t *testing.T) {
	orig := mustLoad(t, base)
	for _, e := range []struct{ old, new string }{
		{`version = "3.4.1"`, `version = "3.5.0"`},
		{`image   = "registry.corp:5000/quobyte/quobyte-server"`, `image = "other/quobyte-server"`},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n client_image = \"other/client\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n runtime = \"mesos\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n runtime = \"command\"\n command = \"/bin/q\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n command = \"/bin/x\""}, // unused: nothing
		{`env     = { A = "1" }`, `env = { A = "2" }`},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n registry = \"reg.corp:7861\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n device_root = \"/srv\""},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n address = \"ip\""}, // restarts nothing
		{`cpus = 1`, `cpus = 2`},
		{`count = 1`, "count = 1\n ports {\n jsonrpc = 9999\n }"},
		{`count = 1`, "count = 1\n env = { B = \"x\" }"},
		{`count = 1`, "count = 1\n env = { A = \"1\" }"}, // the cluster's value again: nothing
		{`args = ["--verbose"]`, `args = ["--quiet"]`},
		{`count = 1`, "count = 1\n health {\n grace = \"1s\"\n }"},
		{`count = 1`, "count = 1\n kill_grace = \"1s\""},
		{`count = 1`, `count = 3`},
		{`count = 1`, "count = 1\n restart {\n max_delay = \"1m\"\n }"},
		{`max_parallel = 1`, `max_parallel = 2`},
		{`hosts = ["storage-*"]`, `hosts = ["node-*"]`},
		{`version = "3.4.1"`, "version = \"3.4.1\"\n state = \"stopped\""},
		{`max_parallel = 1`, "max_parallel = 1\n}\nprober {\n interval = \"5s\""},
	} {
		t.Run(e.new, func(t *testing.T) {
			c := mustLoad(t, edit(t, e.old, e.new))
			for _, k := range Kinds() {
				changes := ConfigDiff(orig, c, k)
				if hashChanged := c.Service(k).ConfigHash != orig.Service(k).ConfigHash; hashChanged != (len(changes) > 0) {
					t.Errorf("%s: config hash changed = %v, but ConfigDiff = %v", k, hashChanged, changes)
				}
			}
			changes := ProberDiff(orig, c)
			if hashChanged := c.Prober.ConfigHash != orig.Prober.ConfigHash; hashChanged != (len(changes) > 0) {
				t.Errorf("prober: config hash changed = %v, but ProberDiff = %v", hashChanged, changes)
			}
		})
	}
	got := ConfigDiff(orig, mustLoad(t, edit(t, `version = "3.4.1"`, `version = "3.5.0"`)), Data)
	if want := `quobyte.version: "3.4.1" -> "3.5.0"`; len(got) != 1 || got[0].String() != want {
		t.Errorf("ConfigDiff of a version change = %v, want [%s]", got, want)
	}
}
