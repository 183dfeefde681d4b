package spec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestPrivileges_ReadAndNormalized(t *testing.T) {
	c := mustLoad(t, minimal+`
service "data" {
  privileged   = false
  capabilities = ["sys_rawio", "CAP_SYS_RAWIO", "SYS_ADMIN"]
  devices      = ["/dev/sdb:/dev/xvdb:rw", "/dev/nvme0"]
}
service "api" {
  privileged = true
}
`)
	d := c.Service(Data)
	if d.Privileged || !reflect.DeepEqual(d.Capabilities, []string{"SYS_ADMIN", "SYS_RAWIO"}) ||
		!reflect.DeepEqual(d.Devices, []string{"/dev/nvme0", "/dev/sdb:/dev/xvdb:rw"}) {
		t.Errorf("data: privileged %v capabilities %v devices %v", d.Privileged, d.Capabilities, d.Devices)
	}
	if !c.Service(API).Privileged {
		t.Error("api not privileged")
	}
	// Least privilege by default: nothing, but FUSE for the client.
	for _, k := range []Kind{Registry, Metadata, Webconsole, S3} {
		if s := c.Service(k); s.Privileged || len(s.Capabilities) > 0 || len(s.Devices) > 0 {
			t.Errorf("%s has privileges by default: %+v", k, s)
		}
	}
	cl := c.Service(Client)
	if !reflect.DeepEqual(cl.Capabilities, []string{"SYS_ADMIN"}) || !reflect.DeepEqual(cl.Devices, []string{"/dev/fuse"}) {
		t.Errorf("client defaults: %v %v", cl.Capabilities, cl.Devices)
	}
	// Setting a list replaces the default.
	c = mustLoad(t, minimal+`service "client" {
  capabilities = []
}`)
	if len(c.Service(Client).Capabilities) != 0 {
		t.Errorf("client capabilities %v, want none", c.Service(Client).Capabilities)
	}
}

func TestPrivileges_Errors(t *testing.T) {
	for _, tc := range []struct{ body, summary, at string }{
		{`capabilities = ["SYS_ADMN"]`, "Unknown capability", `Did you mean "SYS_ADMIN"`},
		{`capabilities = ["ALL"]`, "Capability ALL", "privileged = true"},
		{`devices = ["dev/fuse"]`, "Invalid device", "host path must be absolute"},
		{`devices = ["/dev/fuse:fuse"]`, "Invalid device", "container path must be absolute"},
		{`devices = ["/dev/fuse:/dev/fuse:rx"]`, "Invalid device", "r, w and m"},
		{`devices = ["/dev/fuse:/dev/fuse:rr"]`, "Invalid device", "each once"},
		{`devices = ["/dev/a:/b:r:x"]`, "Invalid device", "host[:container[:permissions]]"},
	} {
		src := minimal + "service \"data\" {\n  " + tc.body + "\n}\n"
		_, diags := LoadBytes([]byte(src), "t.hcl")
		if !diags.HasErrors() || diags[0].Summary != tc.summary || !strings.Contains(diags[0].Detail, tc.at) {
			t.Errorf("%s: got\n%s", tc.body, listDiags(diags))
			continue
		}
		if diags[0].Subject == nil || diags[0].Subject.Start.Line != 8 {
			t.Errorf("%s: error not at line 8: %s", tc.body, listDiags(diags))
		}
	}
}

func TestPrivileges_Warnings(t *testing.T) {
	command := `mesos { master = "http://m:5050" }
quobyte {
  runtime = "command"
  command = "x"
}
`
	mesosRT := `mesos { master = "http://m:5050" }
quobyte {
  runtime = "mesos"
  image   = "a/b"
  version = "1"
}
`
	for _, tc := range []struct{ name, src, summary string }{
		{"command runtime", command + `service "data" { privileged = true }`, "Privileges ignored"},
		{"mesos devices", mesosRT + `service "data" { devices = ["/dev/sdb"] }`, "Devices not in the task"},
		{"redundant", minimal + "service \"data\" {\n privileged = true\n capabilities = [\"SYS_RAWIO\"]\n}", "Capabilities redundant"},
	} {
		c, diags := LoadBytes([]byte(tc.src), "t.hcl")
		if c == nil || diags.HasErrors() || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != tc.summary {
			t.Errorf("%s: want one warning %q, got:\n%s", tc.name, tc.summary, listDiags(diags))
		}
	}
}

// Privileges are part of a container's launch config: granting one restarts
// the service; their order does not; with the command runtime, which has no
// container, they change nothing.
func TestConfigHash_Privileges(t *testing.T) {
	hash := func(src string) string { return mustLoad(t, src).Service(Data).ConfigHash }
	plain := hash(minimal)
	granted := hash(minimal + `service "data" { capabilities = ["SYS_RAWIO", "SYS_ADMIN"] }`)
	if granted == plain {
		t.Error("a granted capability keeps the config hash")
	}
	if hash(minimal+`service "data" { capabilities = ["SYS_ADMIN", "CAP_SYS_RAWIO"] }`) != granted {
		t.Error("the order of capabilities changes the config hash")
	}
	if hash(minimal+`service "data" { privileged = true }`) == plain || hash(minimal+`service "data" { devices = ["/dev/sdb"] }`) == plain {
		t.Error("privileged or devices keep the config hash")
	}
	command := `mesos { master = "http://m:5050" }
quobyte {
  runtime = "command"
  command = "x"
}
`
	if hash(command+`service "data" { privileged = true }`) != hash(command) {
		t.Error("privileges change the hash of a command-runtime service")
	}
}
