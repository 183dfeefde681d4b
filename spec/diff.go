package spec

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Change is one effective setting that differs between two specs, named by
// its path in the spec language ("quobyte.version",
// "service.data.resources.mem", "quobyte.env.JAVA_OPTS"). Old and New are
// written as in a spec file ("\"3.4\"", "4096", "[\"a\", \"b\"]"), or
// "(unset)" for a map entry one side lacks.
type Change struct {
	Path     string
	Old, New string
}

func (c Change) String() string { return c.Path + ": " + c.Old + " -> " + c.New }

// Diff lists the effective settings that differ from old to new, sorted by
// path. Settings are compared after defaults, so writing out a default
// changes nothing; hashes and the file name are not settings.
func Diff(old, new *Cluster) []Change {
	a, b := settings(old), settings(new)
	var out []Change
	for path, av := range a {
		if bv, ok := b[path]; !ok {
			out = append(out, Change{path, av, unset})
		} else if av != bv {
			out = append(out, Change{path, av, bv})
		}
	}
	for path, bv := range b {
		if _, ok := a[path]; !ok {
			out = append(out, Change{path, unset, bv})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// DiffText is Diff as lines, for logs and /v1/status.
func DiffText(old, new *Cluster) string {
	changes := Diff(old, new)
	lines := make([]string, len(changes))
	for i, c := range changes {
		lines[i] = c.String()
	}
	return strings.Join(lines, "\n")
}

const unset = "(unset)"

// settings flattens a cluster into path -> value. It walks the types by
// reflection, naming each field as the spec language does (FrameworkIDStore
// -> framework_id_store), so that a setting added to the types is diffed
// without a list to keep up to date (TestDiff_PathsAreSpecNames guards the
// names). Maps of settings (env, ports, attributes) become one path per key.
func settings(c *Cluster) map[string]string {
	out := map[string]string{}
	if c == nil {
		return out
	}
	// mesos.master is one URL (ZK or http) or a list, as it was written.
	switch m := c.Mesos.Masters; {
	case c.Mesos.ZK != "":
		out["mesos.master"] = strconv.Quote(c.Mesos.ZK)
	case len(m) == 1:
		out["mesos.master"] = strconv.Quote(m[0])
	default:
		out["mesos.master"] = formatValue(reflect.ValueOf(m))
	}
	flatten(out, "", reflect.ValueOf(*c))
	return out
}

// notSettings are fields that are derived or said elsewhere: the file
// name, the hashes, the kind (it is in the path), and the master
// (mesos.master above).
var notSettings = map[string]bool{"File": true, "Hash": true, "ConfigHash": true, "Kind": true, "Masters": true, "ZK": true}

func flatten(out map[string]string, prefix string, v reflect.Value) {
	switch {
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && !notSettings[f.Name] {
				flatten(out, join(prefix, snakeCase(f.Name)), v.Field(i))
			}
		}
	case v.Kind() == reflect.Map:
		for _, k := range v.MapKeys() {
			flatten(out, join(prefix, fmt.Sprint(k.Interface())), v.MapIndex(k))
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			flatten(out, prefix, v.Elem())
		}
	default:
		out[prefix] = formatValue(v)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// formatValue writes a value as a spec file would.
func formatValue(v reflect.Value) string {
	if d, ok := v.Interface().(time.Duration); ok {
		return strconv.Quote(shortDuration(d))
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// shortDuration writes d as an operator would: "672h", "1h30m", "90s", not
// "672h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// snakeCase turns a Go field name into the spec's attribute name:
// FrameworkIDStore -> framework_id_store, CPUs -> cpus.
func snakeCase(name string) string {
	switch name {
	case "CPUs":
		return "cpus"
	case "Services":
		return "service" // as the blocks are written: service "data" { }
	}
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		// A word starts at an upper-case letter that follows a lower-case
		// one, or that ends an acronym ("ID" in "IDStore").
		if i > 0 && unicode.IsUpper(r) &&
			(unicode.IsLower(runes[i-1]) || (i+1 < len(runes) && unicode.IsLower(runes[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ConfigDiff lists the changes from old to new that change kind k's launch
// configuration (its ConfigHash): the settings listed in launchConfig, so
// that a rolling replacement can say what it changes ("quobyte.version:
// \"3.4\" -> \"3.5\"") rather than name hashes. Empty when k's config is
// the same (or k is in neither spec).
func ConfigDiff(old, new *Cluster, k Kind) []Change {
	return filterChanges(Diff(old, new), func(path string) bool { return inLaunchConfig(old, new, k, path) })
}

// ProberDiff lists the changes from old to new that change the prober's
// configuration (Prober.ConfigHash): the prober block and the device root.
func ProberDiff(old, new *Cluster) []Change {
	return filterChanges(Diff(old, new), func(path string) bool {
		return path == "quobyte.device_root" || strings.HasPrefix(path, "prober.")
	})
}

func filterChanges(all []Change, keep func(path string) bool) []Change {
	var out []Change
	for _, c := range all {
		if keep(c.Path) {
			out = append(out, c)
		}
	}
	return out
}

// inLaunchConfig reports whether the setting at path is part of kind k's
// launch configuration in old or new (see launchConfig and ConfigHash).
func inLaunchConfig(old, new *Cluster, k Kind, path string) bool {
	either := func(f func(c *Cluster) bool) bool { return f(old) || f(new) }
	usesImage := func(c *Cluster) bool { return c != nil && c.Quobyte.Runtime != Command }
	switch path {
	case "quobyte.version", "quobyte.runtime", "quobyte.registry", "quobyte.device_root":
		return true
	case "quobyte.command":
		return either(func(c *Cluster) bool { return c != nil && c.Quobyte.Runtime == Command })
	case "quobyte.image":
		// The client runs the client image when one is set.
		return either(func(c *Cluster) bool { return usesImage(c) && (k != Client || c.Quobyte.ClientImage == "") })
	case "quobyte.client_image":
		return k == Client && either(usesImage)
	}
	key, ok := strings.CutPrefix(path, "quobyte.env.")
	if !ok {
		key, ok = strings.CutPrefix(path, "service."+string(k)+".env.")
	}
	if ok {
		// What counts is the environment the task gets: a service's env
		// overrides the cluster's.
		effective := func(c *Cluster) string {
			if c == nil || c.Services[k] == nil {
				return unset
			}
			if v, ok := EffectiveEnv(c, k)[key]; ok {
				return strconv.Quote(v)
			}
			return unset
		}
		return effective(old) != effective(new)
	}
	rest, ok := strings.CutPrefix(path, "service."+string(k)+".")
	if !ok {
		return false
	}
	for _, p := range []string{"resources.", "ports.", "health."} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return rest == "args" || rest == "kill_grace"
}
