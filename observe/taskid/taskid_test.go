package taskid

import "testing"

func TestNewAndParse_RoundTrip(t *testing.T) {
	id, err := New("data", "3f9a1c2b7d", "k2j4h5g6")
	if err != nil {
		t.Fatal(err)
	}
	s := id.String()
	if s != "quobyte.data.3f9a1c2b7d.k2j4h5g6" {
		t.Fatalf("String = %q", s)
	}
	got, ok := Parse(s)
	if !ok || got != id {
		t.Fatalf("Parse(%q) = %+v, %v; want %+v", s, got, ok, id)
	}
}

func TestNew_RejectsPartsThatWouldNotParse(t *testing.T) {
	for _, tc := range [][3]string{
		{"", "h", "s"}, {"data", "", "s"}, {"data", "h", ""},
		{"da.ta", "h", "s"}, {"data", "h/x", "s"}, {"data", "h", "s s"},
	} {
		if _, err := New(tc[0], tc[1], tc[2]); err == nil {
			t.Errorf("New(%q, %q, %q) accepted", tc[0], tc[1], tc[2])
		}
	}
}

func TestParse_ForeignAndMalformedIDs(t *testing.T) {
	for _, s := range []string{
		"", "quobyte", "quobyte.data.h", "quobyte.data.h.s.extra", "other.data.h.s",
		"quobyte..h.s", "quobyte.data..s", "quobyte.data.h.", "marathon-app.1234",
	} {
		if id, ok := Parse(s); ok {
			t.Errorf("Parse(%q) = %+v, want not ours", s, id)
		}
	}
}

// Parse never panics, and whatever it accepts re-encodes to the same ID.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"quobyte.data.3f9a1c2b7d.k2j4h5g6", "quobyte.prober.x.y", "a.b.c.d", "....", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := Parse(s)
		if ok && id.String() != s {
			t.Fatalf("Parse(%q) = %+v, re-encoded %q", s, id, id.String())
		}
	})
}
