package actuate

import (
	"reflect"
	"sort"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/spec"
)

// What the spec grants a service reaches its Docker container, and nothing
// else: privileged only when asked, a cap-add parameter per capability, a
// device parameter per device.
func TestBuildTaskInfo_DockerPrivileges(t *testing.T) {
	c := testCluster(t, `image = "quobyte/server"
version = "3.14"`, `service "data" {
  capabilities = ["SYS_RAWIO"]
  devices      = ["/dev/sdb", "/dev/nvme0n1:/dev/nvme0n1:rw"]
}
service "api" {
  privileged = true
}`)
	d := serviceTask(t, c, spec.Data, "node1:7861").Container.Docker
	want := []mesos.Parameter{{Key: "cap-add", Value: "SYS_RAWIO"}, {Key: "device", Value: "/dev/nvme0n1:/dev/nvme0n1:rw"}, {Key: "device", Value: "/dev/sdb"}}
	if d.GetPrivileged() || !reflect.DeepEqual(d.Parameters, want) {
		t.Errorf("data: privileged %v parameters %+v, want %+v", d.GetPrivileged(), d.Parameters, want)
	}
	if d := serviceTask(t, c, spec.API, "node1:7861").Container.Docker; !d.GetPrivileged() || len(d.Parameters) != 0 {
		t.Errorf("api: privileged %v parameters %+v", d.GetPrivileged(), d.Parameters)
	}
	if d := serviceTask(t, c, spec.Registry, "node1:7861").Container.Docker; d.GetPrivileged() || len(d.Parameters) != 0 {
		t.Errorf("registry: privileged %v parameters %+v, want none", d.GetPrivileged(), d.Parameters)
	}
}

func capNames(ci *mesos.CapabilityInfo) []string {
	var out []string
	for _, c := range ci.GetCapabilities() {
		out = append(out, c.String())
	}
	sort.Strings(out)
	return out
}

// With the Mesos containerizer the same privileges are LinuxInfo
// capabilities: Docker's default set plus the grants, every capability
// when privileged.
func TestBuildTaskInfo_MesosContainerizerPrivileges(t *testing.T) {
	c := testCluster(t, `image = "quobyte/server"
version = "3.14"
runtime = "mesos"`, `service "data" {
  capabilities = ["SYS_RAWIO"]
}
service "api" {
  privileged = true
}`)
	li := serviceTask(t, c, spec.Data, "node1:7861").Container.LinuxInfo
	want := append(append([]string(nil), dockerDefaultCapabilities...), "SYS_RAWIO")
	sort.Strings(want)
	if got := capNames(li.EffectiveCapabilities); !reflect.DeepEqual(got, want) {
		t.Errorf("data effective capabilities %v, want %v", got, want)
	}
	if !reflect.DeepEqual(capNames(li.BoundingCapabilities), want) {
		t.Errorf("data bounding capabilities %v", capNames(li.BoundingCapabilities))
	}
	all := spec.CapabilityNames()
	sort.Strings(all)
	if got := capNames(serviceTask(t, c, spec.API, "node1:7861").Container.LinuxInfo.EffectiveCapabilities); !reflect.DeepEqual(got, all) {
		t.Errorf("privileged api: %v, want every capability", got)
	}
}
