package spec

import (
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// builder turns the decoded raw file into a Cluster: it applies defaults and
// validates, appending a diagnostic for every problem instead of stopping at
// the first, so that an operator fixes a file in one round.
type builder struct {
	diags *hcl.Diagnostics
	file  hcl.Body
	// portAt remembers where each explicitly written port was written, for
	// clash messages; default ports have no entry.
	portAt map[Kind]map[string]hcl.Range
	// serviceAt is where each service block was written.
	serviceAt map[Kind]hcl.Range
}

func build(raw *rawFile, file hcl.Body, diags *hcl.Diagnostics) *Cluster {
	b := &builder{
		diags:     diags,
		file:      file,
		portAt:    map[Kind]map[string]hcl.Range{},
		serviceAt: map[Kind]hcl.Range{},
	}
	c := &Cluster{}
	c.Mesos = b.mesos(raw.Mesos)
	c.Quobyte = b.quobyte(raw.Quobyte, raw.Prober)
	c.Prober = b.prober(raw.Prober)
	c.Services = b.services(raw.Services, c)
	c.Upgrade = b.upgrade(raw.Upgrade, c.Services)
	c.Placement = b.placement(raw.Placement)
	c.StatusAPI = b.statusAPI(raw.StatusAPI)
	c.HA = b.ha(raw.HA, c.Mesos)
	b.checkPortClashes(c)
	return c
}

func (b *builder) errorf(at hcl.Range, summary, detail string, args ...any) {
	*b.diags = append(*b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  at.Ptr(),
	})
}

func (b *builder) warnf(at hcl.Range, summary, detail string, args ...any) {
	*b.diags = append(*b.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  at.Ptr(),
	})
}

// durationRule says which durations are acceptable.
type durationRule int

const (
	positive durationRule = iota
	nonNegative
)

// duration parses the duration attribute name of body (Go syntax: "90s",
// "5m", "1h30m"), or returns def when it is not written.
func (b *builder) duration(body hcl.Body, name string, v *string, def time.Duration, rule durationRule) time.Duration {
	if v == nil {
		return def
	}
	d, err := time.ParseDuration(*v)
	if err != nil {
		b.errorf(valueRange(body, name), "Invalid duration",
			"%s = %q is not a duration. Write a number with a unit, such as \"30s\", \"5m\" or \"1h30m\" (units: ms, s, m, h).", name, *v)
		return def
	}
	switch {
	case rule == positive && d <= 0:
		b.errorf(valueRange(body, name), "Duration must be positive", "%s = %q: the duration must be greater than zero.", name, *v)
	case rule == nonNegative && d < 0:
		b.errorf(valueRange(body, name), "Duration must not be negative", "%s = %q: the duration must be zero or more.", name, *v)
	}
	return d
}

// str returns *v, or def when not written. A written value must not be
// empty or blank unless allowEmpty.
func (b *builder) str(body hcl.Body, name string, v *string, def string, allowEmpty bool) string {
	if v == nil {
		return def
	}
	if !allowEmpty && strings.TrimSpace(*v) == "" {
		hint := fmt.Sprintf("leave it out to get the default %q", def)
		if def == "" {
			hint = "leave it out when it is not needed"
		}
		b.errorf(valueRange(body, name), "Empty value", "%s must not be empty; %s.", name, hint)
		return def
	}
	return *v
}

// oneOf checks that s (the value of attribute name) is one of allowed.
func (b *builder) oneOf(body hcl.Body, name, s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	b.errorf(valueRange(body, name), fmt.Sprintf("Unknown %s", strings.ReplaceAll(name, "_", " ")),
		"%s = %q is not one of: %s.%s", name, s, quoteList(allowed), didYouMean(s, allowed))
	return false
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (b *builder) mesos(raw *rawMesos) Mesos {
	m := Mesos{
		FrameworkName:    DefaultFrameworkName,
		Role:             DefaultRole,
		FailoverTimeout:  DefaultFailoverTimeout,
		FrameworkIDStore: DefaultFrameworkIDStore,
	}
	if raw == nil {
		b.errorf(missingRange(b.file), "Missing mesos block",
			"The spec must say where the Mesos master is: mesos { master = \"http://master:5050\" } (or a zk:// URL).")
		return m
	}
	body := raw.Body
	b.masters(raw, &m)
	m.FrameworkName = b.str(body, "framework_name", raw.FrameworkName, m.FrameworkName, false)
	m.Role = b.str(body, "role", raw.Role, m.Role, false)
	if raw.Role != nil && !validRole(m.Role) {
		b.errorf(valueRange(body, "role"), "Invalid Mesos role",
			"role = %q: a role is a name of letters, digits and \"-_.\" segments separated by '/', not starting with '-' and not \".\" or \"..\".", m.Role)
	}
	m.Principal = b.str(body, "principal", raw.Principal, "", false)
	m.SecretFile = b.str(body, "secret_file", raw.SecretFile, "", false)
	m.CAFile = b.str(body, "ca_file", raw.CAFile, "", false)
	if m.SecretFile != "" && m.Principal == "" {
		b.errorf(valueRange(body, "secret_file"), "Secret without principal",
			"secret_file is set but principal is not: Mesos authenticates a principal with the secret.")
	}
	m.FailoverTimeout = b.duration(body, "failover_timeout", raw.FailoverTimeout, m.FailoverTimeout, positive)
	m.FrameworkIDStore = b.str(body, "framework_id_store", raw.FrameworkIDStore, m.FrameworkIDStore, false)
	if raw.FrameworkIDStore != nil {
		if err := checkStoreURL(m.FrameworkIDStore); err != nil {
			b.errorf(valueRange(body, "framework_id_store"), "Invalid framework ID store", "framework_id_store = %q: %v.", m.FrameworkIDStore, err)
		}
	}
	return m
}

// masters decodes mesos.master: one URL string (http(s) or zk://) or a list
// of http(s) URLs.
func (b *builder) masters(raw *rawMesos, m *Mesos) {
	if raw.Master == nil {
		b.errorf(raw.Body.MissingItemRange(), "Missing mesos.master",
			"Set master to the Mesos master's URL (\"http://master:5050\"), a list of them, or a \"zk://zk1:2181,zk2:2181/mesos\" URL.")
		return
	}
	expr := raw.Master.Expr
	at := expr.Range()
	var one string
	if diags := gohcl.DecodeExpression(expr, nil, &one); !diags.HasErrors() {
		if strings.HasPrefix(one, "zk://") {
			if err := checkZKURL(one); err != nil {
				b.errorf(at, "Invalid ZooKeeper master URL", "master = %q: %v.", one, err)
			}
			m.ZK = one
			return
		}
		if err := checkMasterURL(one); err != nil {
			b.errorf(at, "Invalid master URL", "master = %q: %v.", one, err)
		}
		m.Masters = []string{one}
		return
	}
	var list []string
	if diags := gohcl.DecodeExpression(expr, nil, &list); diags.HasErrors() {
		b.errorf(at, "Invalid master", "master must be a string (\"http://m1:5050\" or \"zk://zk1:2181/mesos\") or a list of http(s) URLs.")
		return
	}
	if len(list) == 0 {
		b.errorf(at, "No master", "master lists no URL.")
		return
	}
	for i, u := range list {
		if strings.HasPrefix(u, "zk://") {
			b.errorf(elemRange(raw.Body, "master", i), "ZooKeeper URL in a master list",
				"A zk:// URL finds the leading master by itself: write it alone, master = %q.", u)
			continue
		}
		if err := checkMasterURL(u); err != nil {
			b.errorf(elemRange(raw.Body, "master", i), "Invalid master URL", "%q: %v.", u, err)
		}
	}
	m.Masters = list
}

func checkMasterURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL (%v)", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("the scheme must be http, https or zk, as in \"http://master:5050\"")
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("the URL names no host")
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return fmt.Errorf("port %q is not a port number", p)
		}
	}
	if u.User != nil {
		return fmt.Errorf("credentials do not belong in the URL; use principal and secret_file")
	}
	return nil
}

// checkZKURL checks "zk://host[:port][,host[:port]...]/path".
func checkZKURL(s string) error {
	rest, ok := strings.CutPrefix(s, "zk://")
	if !ok {
		return fmt.Errorf("a ZooKeeper URL starts with zk://")
	}
	hosts, p, _ := strings.Cut(rest, "/")
	if strings.Contains(hosts, "@") {
		return fmt.Errorf("credentials in the URL are not supported")
	}
	if hosts == "" {
		return fmt.Errorf("no ZooKeeper servers, as in \"zk://zk1:2181,zk2:2181/mesos\"")
	}
	for _, h := range strings.Split(hosts, ",") {
		name, port, hasPort := strings.Cut(h, ":")
		if name == "" || strings.ContainsAny(name, " \t/") {
			return fmt.Errorf("server %q is not host[:port]", h)
		}
		if hasPort {
			if n, err := parsePort(port); err != nil || n == 0 {
				return fmt.Errorf("server %q has no valid port", h)
			}
		}
	}
	if strings.Trim(p, "/") == "" {
		return fmt.Errorf("the URL needs a node path after the servers, as in \"zk://zk1:2181/mesos\"")
	}
	return nil
}

// checkStoreURL checks a framework ID store: "file:///path" or a zk:// URL.
func checkStoreURL(s string) error {
	if strings.HasPrefix(s, "zk://") {
		return checkZKURL(s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "file" {
		return fmt.Errorf("write file:///path/to/file or zk://zk1:2181/path")
	}
	if u.Host != "" && u.Host != "localhost" {
		return fmt.Errorf("a file URL has no host: file:///path (three slashes)")
	}
	if u.Path == "" || strings.HasSuffix(u.Path, "/") {
		return fmt.Errorf("the file URL needs a file path")
	}
	return nil
}

func parsePort(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("bad port")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad port")
		}
		n = n*10 + int(r-'0')
	}
	if n > 65535 {
		return 0, fmt.Errorf("bad port")
	}
	return n, nil
}

var roleSegment = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

func validRole(r string) bool {
	if r == "*" {
		return true
	}
	for _, seg := range strings.Split(r, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, "-") || !roleSegment.MatchString(seg) {
			return false
		}
	}
	return true
}

// Image references as Docker writes them, without tag or digest: an optional
// registry host (with a dot or a port, or "localhost") and lowercase path
// components separated by '/'.
var (
	imageDomain   = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?/)`
	imageComponnt = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	imageRepo     = regexp.MustCompile(`^` + imageDomain + `?` + imageComponnt + `(?:/` + imageComponnt + `)*$`)
	imageTag      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	envName       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// checkImage checks a repository reference without tag.
func checkImage(s string) error {
	last := s[strings.LastIndex(s, "/")+1:]
	if strings.Contains(s, "@") || strings.Contains(last, ":") {
		return fmt.Errorf("write the repository without tag or digest; the tag is quobyte.version")
	}
	if len(s) > 255 || !imageRepo.MatchString(s) {
		return fmt.Errorf("not an image repository such as \"registry.corp:5000/quobyte/quobyte-server\" (path components are lowercase letters, digits and . _ -)")
	}
	return nil
}

func (b *builder) quobyte(raw *rawQuobyte, prober *rawProber) Quobyte {
	q := Quobyte{
		State:      Running,
		Version:    DefaultVersion,
		Runtime:    DefaultRuntime,
		DeviceRoot: DefaultDeviceRoot,
		Address:    DefaultAddress,
		Env:        map[string]string{},
	}
	if raw == nil {
		b.errorf(missingRange(b.file), "Missing quobyte block",
			"The spec must say what to deploy: quobyte { image = \"registry.corp:5000/quobyte/quobyte-server\"  version = \"3.4.1\" }.")
		return q
	}
	body := raw.Body
	if s := b.str(body, "state", raw.State, string(q.State), false); b.oneOf(body, "state", s, string(Running), string(Stopped)) {
		q.State = State(s)
	}
	if s := b.str(body, "runtime", raw.Runtime, string(q.Runtime), false); b.oneOf(body, "runtime", s, string(Docker), string(MesosImage), string(Command)) {
		q.Runtime = Runtime(s)
	}
	q.Version = b.str(body, "version", raw.Version, q.Version, false)
	if raw.Version != nil && !imageTag.MatchString(q.Version) {
		b.errorf(valueRange(body, "version"), "Invalid version",
			"version = %q: a version is used as the image tag: letters, digits, '_', '.', '-', at most 128 characters.", q.Version)
	}
	q.Image = b.str(body, "image", raw.Image, "", false)
	q.ClientImage = b.str(body, "client_image", raw.ClientImage, "", false)
	q.Command = b.str(body, "command", raw.Command, "", false)
	for _, img := range []struct{ name, v string }{{"image", q.Image}, {"client_image", q.ClientImage}} {
		if img.v == "" {
			continue
		}
		if err := checkImage(img.v); err != nil {
			b.errorf(valueRange(body, img.name), "Invalid image reference", "%s = %q: %v.", img.name, img.v, err)
		}
	}
	if q.Runtime == Command {
		if q.Command == "" && raw.Command == nil {
			b.errorf(missingRange(body), "Missing quobyte.command",
				"runtime = \"command\" runs a plain command on each host: set command to the Quobyte service binary.")
		}
	} else {
		if q.Image == "" && raw.Image == nil {
			b.errorf(missingRange(body), "Missing quobyte.image",
				"Set image to the Quobyte server image repository (without tag), such as \"registry.corp:5000/quobyte/quobyte-server\"; the tag is version.")
		}
		if raw.Command != nil {
			b.warnf(valueRange(body, "command"), "Command ignored", "command is only used with runtime = \"command\"; the %s runtime runs the image's own entry point.", q.Runtime)
		}
		if raw.Version == nil && raw.Image != nil {
			b.warnf(valueRange(body, "image"), "No version pinned",
				"quobyte.version is not set, so the image tag %q is used; pin a version so that upgrades happen when you choose.", DefaultVersion)
		}
	}
	q.Registry = b.str(body, "registry", raw.Registry, "", true)
	if strings.ContainsAny(q.Registry, " \t\n") {
		b.errorf(valueRange(body, "registry"), "Invalid registry address",
			"registry = %q: write a comma-separated list of host[:port] without spaces, or a DNS name.", q.Registry)
	}
	q.DeviceRoot = b.deviceRoot(raw, prober)
	if s := b.str(body, "address", raw.Address, string(q.Address), false); b.oneOf(body, "address", s, string(AddressHostname), string(AddressIP)) {
		q.Address = AddressMode(s)
	}
	q.Env = b.env(body, raw.Env)
	return q
}

// deviceRoot takes quobyte.device_root, or its alias prober.device_root.
func (b *builder) deviceRoot(raw *rawQuobyte, prober *rawProber) string {
	v, body, name := raw.DeviceRoot, raw.Body, "device_root"
	if prober != nil && prober.DeviceRoot != nil {
		if v != nil {
			b.errorf(valueRange(prober.Body, "device_root"), "Device root set twice",
				"device_root is set in both quobyte and prober; keep the one in quobyte.")
			return *v
		}
		v, body = prober.DeviceRoot, prober.Body
	}
	root := b.str(body, name, v, DefaultDeviceRoot, false)
	if v != nil && path.Clean(root) != root {
		b.errorf(valueRange(body, name), "Unclean device root", "device_root = %q: write it as %q.", root, path.Clean(root))
	}
	return root
}

func (b *builder) env(body hcl.Body, env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		if !envName.MatchString(k) {
			b.errorf(keyRange(body, "env", k), "Invalid environment variable name",
				"%q: names are letters, digits and '_', not starting with a digit.", k)
		}
		out[k] = v
	}
	return out
}

func (b *builder) prober(raw *rawProber) Prober {
	p := Prober{
		Interval:         DefaultProberInterval,
		Mode:             DefaultProberMode,
		Artifact:         DefaultProberArtifact,
		ClientMountPoint: DefaultClientMountPoint,
		Resources:        DefaultProberResources(),
	}
	if raw == nil {
		return p
	}
	body := raw.Body
	p.Interval = b.duration(body, "interval", raw.Interval, p.Interval, positive)
	if s := b.str(body, "mode", raw.Mode, p.Mode, false); b.oneOf(body, "mode", s, ProberModeMounts, ProberModeDirectories) {
		p.Mode = s
	}
	if s := b.str(body, "artifact", raw.Artifact, p.Artifact, false); b.oneOf(body, "artifact", s, ProberArtifactFramework, ProberArtifactImage) {
		p.Artifact = s
	}
	p.ClientMountPoint = b.str(body, "client_mount_point", raw.ClientMountPoint, p.ClientMountPoint, false)
	p.Resources = b.resources(raw.Resources, p.Resources)
	return p
}

// resources overlays what raw says on def; cpus and mem must be positive,
// disk may be zero (no sandbox disk asked for).
func (b *builder) resources(raw *rawResources, def Resources) Resources {
	r := def
	if raw == nil {
		return r
	}
	check := func(name string, v *float64, dst *float64, allowZero bool) {
		if v == nil {
			return
		}
		*dst = *v
		switch {
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			b.errorf(valueRange(raw.Body, name), "Invalid resource", "%s must be a finite number.", name)
		case *v < 0 || (*v == 0 && !allowZero):
			want := "greater than zero"
			if allowZero {
				want = "zero or more"
			}
			b.errorf(valueRange(raw.Body, name), "Invalid resource", "%s = %g: must be %s.", name, *v, want)
		}
	}
	check("cpus", raw.CPUs, &r.CPUs, false)
	check("mem", raw.Mem, &r.Mem, false)
	check("disk", raw.Disk, &r.Disk, true)
	return r
}

func (b *builder) services(raws []*rawService, c *Cluster) map[Kind]*Service {
	out := make(map[Kind]*Service, len(Kinds()))
	for _, k := range Kinds() {
		s := defaultService(k)
		out[k] = &s
	}
	for _, raw := range raws {
		k, ok := ParseKind(raw.Name)
		if !ok {
			b.errorf(raw.NameRange, "Unknown service kind", "service %q: the kinds are %s.%s", raw.Name, quoteList(kindNames()), didYouMean(raw.Name, kindNames()))
			continue
		}
		if prev, dup := b.serviceAt[k]; dup {
			b.errorf(raw.NameRange, "Duplicate service block", "service %q is already configured at %s.", raw.Name, prev.String())
			continue
		}
		b.serviceAt[k] = raw.DefRange
		b.service(raw, out[k])
		b.privileges(raw, out[k], c.Quobyte.Runtime)
	}
	if s := out[Registry]; !s.Enabled && c.Quobyte.Registry == "" {
		at := missingRange(b.file)
		if r, ok := b.serviceAt[Registry]; ok {
			at = r
		}
		b.errorf(at, "No registry", "The registry service is disabled and quobyte.registry names no external one: nothing could find the cluster.")
	}
	return out
}

func (b *builder) service(raw *rawService, s *Service) {
	body := raw.Body
	if raw.Enabled != nil {
		s.Enabled = *raw.Enabled
	}
	if raw.Count != nil {
		s.Count = *raw.Count
		switch {
		case *raw.Count < 0:
			b.errorf(valueRange(body, "count"), "Negative count", "count = %d: must be zero or more.", *raw.Count)
		case s.Kind.CountIgnored():
			b.warnf(valueRange(body, "count"), "Count ignored",
				"%s services run one per qualifying host (%s); count is ignored.", s.Kind, qualifier(s.Kind))
		}
	}
	s.Resources = b.resources(raw.Resources, s.Resources)
	b.ports(raw, s)
	if raw.Health != nil {
		h, hb := raw.Health, raw.Health.Body
		s.Health.Path = b.str(hb, "path", h.Path, s.Health.Path, false)
		if h.Path != nil && !strings.HasPrefix(s.Health.Path, "/") {
			b.errorf(valueRange(hb, "path"), "Invalid health path", "path = %q must start with '/'.", s.Health.Path)
		}
		s.Health.Interval = b.duration(hb, "interval", h.Interval, s.Health.Interval, positive)
		s.Health.Timeout = b.duration(hb, "timeout", h.Timeout, s.Health.Timeout, positive)
		s.Health.Grace = b.duration(hb, "grace", h.Grace, s.Health.Grace, nonNegative)
		if h.MaxFailures != nil {
			s.Health.MaxFailures = *h.MaxFailures
			if *h.MaxFailures < 1 {
				b.errorf(valueRange(hb, "max_failures"), "Invalid max_failures", "max_failures = %d: must be at least 1.", *h.MaxFailures)
			}
		}
	}
	if raw.Restart != nil {
		r, rb := raw.Restart, raw.Restart.Body
		s.Restart.InitialDelay = b.duration(rb, "initial_delay", r.InitialDelay, s.Restart.InitialDelay, positive)
		s.Restart.MaxDelay = b.duration(rb, "max_delay", r.MaxDelay, s.Restart.MaxDelay, positive)
		s.Restart.ResetAfter = b.duration(rb, "reset_after", r.ResetAfter, s.Restart.ResetAfter, positive)
		if s.Restart.MaxDelay < s.Restart.InitialDelay {
			b.errorf(valueRange(rb, "max_delay"), "Restart delays reversed",
				"max_delay (%s) is shorter than initial_delay (%s).", s.Restart.MaxDelay, s.Restart.InitialDelay)
		}
	}
	s.KillGrace = b.duration(body, "kill_grace", raw.KillGrace, s.KillGrace, nonNegative)
	s.Env = b.env(body, raw.Env)
	if raw.Args != nil {
		s.Args = append([]string{}, raw.Args...)
	}
	if raw.Hosts != nil {
		s.Hosts = b.globs(body, "hosts", raw.Hosts)
	}
}

func qualifier(k Kind) string {
	if k == Client {
		return "hosts with the client mount point"
	}
	return fmt.Sprintf("hosts with a %s", k.DeviceType())
}

func (b *builder) ports(raw *rawService, s *Service) {
	if raw.Ports == nil {
		return
	}
	allowed := DefaultPorts(s.Kind)
	names := make([]string, 0, len(allowed))
	for n := range allowed {
		names = append(names, n)
	}
	sort.Strings(names)
	at := map[string]hcl.Range{}
	for name, attr := range raw.Ports.Attrs {
		if _, ok := allowed[name]; !ok {
			b.errorf(attr.NameRange, "Unknown port", "%s services have the ports %s, not %q.%s", s.Kind, quoteList(names), name, didYouMean(name, names))
			continue
		}
		var n int
		if diags := gohcl.DecodeExpression(attr.Expr, nil, &n); diags.HasErrors() {
			*b.diags = append(*b.diags, diags...)
			continue
		}
		if n < 1 || n > 65535 {
			b.errorf(attr.Expr.Range(), "Invalid port", "%s = %d: a port is between 1 and 65535.", name, n)
			continue
		}
		s.Ports[name] = n
		at[name] = attr.Expr.Range()
	}
	b.portAt[s.Kind] = at
}

// globs checks host patterns (path.Match syntax).
func (b *builder) globs(body hcl.Body, name string, pats []string) []string {
	for i, p := range pats {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			b.errorf(elemRange(body, name, i), "Invalid host pattern",
				"%q is not a host glob such as \"storage-*\" or \"node-[0-9]*\".", p)
		}
	}
	return append([]string{}, pats...)
}

// checkPortClashes refuses two enabled services with the same port: any
// two may land on one host (those that run anywhere may join any host, and
// device-bound ones share hosts with their devices), and a kind's own ports
// must differ too.
func (b *builder) checkPortClashes(c *Cluster) {
	type owner struct {
		kind Kind
		name string
	}
	seen := map[int]owner{}
	for _, k := range Kinds() {
		s := c.Services[k]
		if !s.Enabled {
			continue
		}
		names := make([]string, 0, len(s.Ports))
		for n := range s.Ports {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := s.Ports[n]
			prev, clash := seen[p]
			if !clash {
				seen[p] = owner{k, n}
				continue
			}
			// Point at whichever of the two was written in the file.
			at, written := b.portAt[k][n]
			if !written {
				at, written = b.portAt[prev.kind][prev.name]
			}
			if !written {
				at = b.serviceRange(k)
			}
			b.errorf(at, "Port clash",
				"%s port %s and %s port %s are both %d; two services on one host cannot share a port.", prev.kind, prev.name, k, n, p)
		}
	}
}

func (b *builder) serviceRange(k Kind) hcl.Range {
	if r, ok := b.serviceAt[k]; ok {
		return r
	}
	return missingRange(b.file)
}

func (b *builder) upgrade(raw *rawUpgrade, services map[Kind]*Service) Upgrade {
	u := Upgrade{
		Order:           DefaultUpgradeOrder(),
		MaxParallel:     DefaultMaxParallel,
		MinHealthyTime:  DefaultMinHealthyTime,
		HealthyDeadline: DefaultHealthyDeadline,
		AutoRevert:      DefaultAutoRevert(),
	}
	if raw == nil {
		return u
	}
	if raw.AutoRevert != nil {
		u.AutoRevert = b.autoRevert(raw.Body, raw.AutoRevert)
	}
	body := raw.Body
	if raw.Order != nil {
		u.Order = b.order(body, raw.Order, services)
	}
	if raw.MaxParallel != nil {
		u.MaxParallel = *raw.MaxParallel
		if u.MaxParallel < 1 {
			b.errorf(valueRange(body, "max_parallel"), "Invalid max_parallel", "max_parallel = %d: must be at least 1.", u.MaxParallel)
		}
	}
	u.MinHealthyTime = b.duration(body, "min_healthy_time", raw.MinHealthyTime, u.MinHealthyTime, nonNegative)
	u.HealthyDeadline = b.duration(body, "healthy_deadline", raw.HealthyDeadline, u.HealthyDeadline, positive)
	if u.HealthyDeadline <= u.MinHealthyTime {
		b.errorf(valueRange(body, "healthy_deadline"), "Healthy deadline too short",
			"healthy_deadline (%s) must be longer than min_healthy_time (%s): a replaced task could never count as healthy in time.", u.HealthyDeadline, u.MinHealthyTime)
	}
	return u
}

// autoRevert checks the auto_revert list: device-bound kinds (whose host is
// fixed, so there is a previous configuration to go back to), each once.
func (b *builder) autoRevert(body hcl.Body, names []string) []Kind {
	kinds := []Kind{}
	seen := map[Kind]bool{}
	for i, n := range names {
		k, ok := ParseKind(n)
		switch {
		case !ok:
			b.errorf(elemRange(body, "auto_revert", i), "Unknown service kind", "%q in auto_revert is not a service kind.%s", n, didYouMean(n, kindNames()))
		case !k.DeviceBound():
			b.errorf(elemRange(body, "auto_revert", i), "Kind cannot auto-revert",
				"%q in auto_revert: only device-bound kinds (registry, metadata, data) revert; their host is fixed, so there is a previous configuration to go back to.", n)
		case seen[k]:
			b.errorf(elemRange(body, "auto_revert", i), "Kind repeated in auto_revert", "%q appears more than once in auto_revert.", n)
		default:
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// order checks the upgrade order: known kinds, each once, every enabled
// kind present. Disabled kinds left out are appended in the default order,
// so that enabling one later never leaves it unordered.
func (b *builder) order(body hcl.Body, names []string, services map[Kind]*Service) []Kind {
	seen := map[Kind]bool{}
	var order []Kind
	for i, n := range names {
		k, ok := ParseKind(n)
		switch {
		case !ok:
			b.errorf(elemRange(body, "order", i), "Unknown service kind", "%q in the upgrade order is not a service kind.%s", n, didYouMean(n, kindNames()))
		case seen[k]:
			b.errorf(elemRange(body, "order", i), "Kind repeated in upgrade order", "%q appears more than once in the upgrade order.", n)
		default:
			seen[k] = true
			order = append(order, k)
		}
	}
	var missing []string
	for _, k := range DefaultUpgradeOrder() {
		if seen[k] {
			continue
		}
		if services[k].Enabled {
			missing = append(missing, string(k))
			continue
		}
		order = append(order, k)
	}
	if len(missing) > 0 {
		b.errorf(valueRange(body, "order"), "Upgrade order incomplete",
			"The upgrade order must list every enabled service kind; it lacks %s.", quoteList(missing))
	}
	return order
}

func (b *builder) placement(raw *rawPlacement) Placement {
	p := Placement{
		Hosts:              []string{},
		Attributes:         map[string]string{},
		UnreachableTimeout: DefaultUnreachableTimeout,
	}
	if raw == nil {
		return p
	}
	if raw.Hosts != nil {
		p.Hosts = b.globs(raw.Body, "hosts", raw.Hosts)
	}
	for k, v := range raw.Attributes {
		if k == "" {
			b.errorf(valueRange(raw.Body, "attributes"), "Empty attribute name", "Agent attribute names must not be empty.")
		}
		p.Attributes[k] = v
	}
	p.UnreachableTimeout = b.duration(raw.Body, "unreachable_timeout", raw.UnreachableTimeout, p.UnreachableTimeout, positive)
	return p
}

func (b *builder) statusAPI(raw *rawStatusAPI) StatusAPI {
	if raw == nil {
		return StatusAPI{}
	}
	return StatusAPI{AuthFile: b.str(raw.Body, "auth_file", raw.AuthFile, "", false)}
}

func (b *builder) ha(raw *rawHA, m Mesos) HA {
	h := HA{SessionTimeout: DefaultSessionTimeout}
	if raw == nil {
		return h
	}
	body := raw.Body
	if raw.Zookeeper == nil {
		b.errorf(raw.DefRange, "Missing ha.zookeeper",
			"An ha block needs the ZooKeeper URL under which the instances elect their leader: zookeeper = \"zk://zk1:2181,zk2:2181/quobyte-mesos\". Leave the block out to run one instance.")
	} else {
		h.Zookeeper = b.str(body, "zookeeper", raw.Zookeeper, "", false)
		if err := checkZKURL(h.Zookeeper); h.Zookeeper != "" && err != nil {
			b.errorf(valueRange(body, "zookeeper"), "Invalid ZooKeeper URL", "zookeeper = %q: %v.", h.Zookeeper, err)
		}
	}
	h.SessionTimeout = b.duration(body, "session_timeout", raw.SessionTimeout, h.SessionTimeout, positive)
	if raw.SessionTimeout != nil && h.SessionTimeout > 0 && (h.SessionTimeout < MinSessionTimeout || h.SessionTimeout > MaxSessionTimeout) {
		b.errorf(valueRange(body, "session_timeout"), "Session timeout out of range",
			"session_timeout = %q: write between %s and %s (ZooKeeper grants 2 to 20 ticks of its tickTime).",
			*raw.SessionTimeout, shortDuration(MinSessionTimeout), shortDuration(MaxSessionTimeout))
	}
	if h.Zookeeper != "" && strings.HasPrefix(m.FrameworkIDStore, "file:") {
		b.warnf(raw.DefRange, "Framework ID in a local file",
			"With several instances, each must read the framework ID the others saved: set mesos.framework_id_store to a zk:// URL (a file works only when every instance runs on this host or shares the file).")
	}
	return h
}
