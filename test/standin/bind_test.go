package standin

import "testing"

// The address a stand-in binds: QUOBYTE_BIND, else MESOS_SIM_IP (set by
// mesos-sim's agents alone), else in a Docker container the simulated host's
// address when the container's hostname is one; else all interfaces, as a
// Quobyte service listens. LIBPROCESS_IP is never used.
func TestFromEnv_Bind(t *testing.T) {
	base := []string{"QUOBYTE_SERVICE=registry", "QUOBYTE_RPC_PORT=1", "QUOBYTE_HTTP_PORT=2"}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{nil, AllInterfaces},
		{[]string{"LIBPROCESS_IP=127.0.2.1"}, AllInterfaces},
		{[]string{"HOSTNAME=127.0.1.3"}, AllInterfaces}, // not in a container
		{[]string{"MESOS_SIM_IP=127.0.1.4", "LIBPROCESS_IP=127.0.2.1"}, "127.0.1.4"},
		{[]string{"MESOS_CONTAINER_NAME=mesos-1", "HOSTNAME=node7"}, AllInterfaces},
		{[]string{"MESOS_CONTAINER_NAME=mesos-1", "HOSTNAME=127.0.1.3"}, "127.0.1.3"},
		{[]string{"MESOS_CONTAINER_NAME=mesos-1", "HOSTNAME=127.0.1.3", "LIBPROCESS_IP=127.0.2.1"}, "127.0.1.3"},
		{[]string{"MESOS_CONTAINER_NAME=mesos-1", "QUOBYTE_BIND=10.0.0.1", "MESOS_SIM_IP=127.0.2.1"}, "10.0.0.1"},
	} {
		c, err := FromEnv(append(append([]string(nil), base...), tc.env...))
		if err != nil {
			t.Fatal(err)
		}
		if c.Bind != tc.want {
			t.Errorf("%v: bind %q, want %q", tc.env, c.Bind, tc.want)
		}
	}
}
