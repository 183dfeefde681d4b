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
