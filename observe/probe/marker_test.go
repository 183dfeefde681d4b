package probe

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quobyte/quobyte-mesos/spec"
)

func TestParseMarker_Valid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Marker
	}{
		{"empty", "", Marker{}},
		{"comments and blanks", "# written by qmkdev\n\n   \n#device.type=DATA_DEVICE\n", Marker{}},
		{"full", "device.serial=S123\ndevice.model=Samsung SSD\ndevice.bootstrap=true\ndevice.type=DIR_DEVICE\n",
			Marker{Serial: "S123", Model: "Samsung SSD", Bootstrap: true, Type: spec.DirDevice}},
		{"whitespace trimmed, CRLF", "  device.serial = S1 \r\n\tdevice.type=\tMETADATA_DEVICE\r\n",
			Marker{Serial: "S1", Type: spec.MetadataDevice}},
		{"unknown keys kept", "device.type=DATA_DEVICE\nfuture.key=x=y\n",
			Marker{Type: spec.DataDevice, Extra: map[string]string{"future.key": "x=y"}}},
		{"last duplicate wins", "device.serial=a\ndevice.serial=b\n", Marker{Serial: "b"}},
		{"bootstrap false", "device.bootstrap=false\n", Marker{}},
		{"no trailing newline", "device.type=DATA_DEVICE", Marker{Type: spec.DataDevice}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMarker(strings.NewReader(c.in))
			if err != nil {
				t.Fatalf("ParseMarker: %v", err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("marker (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseMarker_Invalid(t *testing.T) {
	cases := []struct{ name, in, wantErr string }{
		{"unknown type", "device.type=TAPE_DEVICE\n", "unknown device.type TAPE_DEVICE"},
		{"lower-case type", "device.type=data_device\n", "unknown device.type data_device"},
		{"empty type", "device.type=\n", "unknown device.type "},
		{"no equals", "device.serial=a\njunk\n", "line 2: want key=value"},
		{"empty key", "=x\n", "line 1: empty key"},
		{"bad bootstrap", "device.bootstrap=yes please\n", "line 1: device.bootstrap"},
		{"too large", strings.Repeat("# padding\n", MaxMarkerSize/10+1), "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMarker(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("ParseMarker error = %v, want containing %q", err, c.wantErr)
			}
		})
	}
	var ute *UnknownTypeError
	if _, err := ParseMarker(strings.NewReader("device.type=X")); !errors.As(err, &ute) || ute.Type != "X" {
		t.Errorf("unknown type error = %#v, want *UnknownTypeError{X}", err)
	}
}

func TestParseDeviceID(t *testing.T) {
	cases := []struct{ in, want, wantErr string }{
		{"device.id=42\n", "42", ""},
		{"# registered\ndevice.id = 7 \n", "7", ""},
		{"", "", "no device.id"},
		{"device.id=\n", "", "no device.id"},
		{"device.id=abc\n", "", "not a number"},
		{"device.id=-1\n", "", "not a number"},
		{"garbage\n", "", "want key=value"},
	}
	for _, c := range cases {
		got, err := ParseDeviceID(strings.NewReader(c.in))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseDeviceID(%q) error = %v, want containing %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseDeviceID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// FuzzParseMarker checks that no input makes the parser panic, and that
// whatever it accepts survives a Format/ParseMarker round trip.
func FuzzParseMarker(f *testing.F) {
	f.Add("device.serial=S1\ndevice.model=M\ndevice.bootstrap=true\ndevice.type=DATA_DEVICE\n")
	f.Add("# c\n\n device.type = DIR_DEVICE \r\nx=y\n")
	f.Add("device.type=NOPE\n")
	f.Add("=\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseMarker(strings.NewReader(in))
		if err != nil {
			return
		}
		again, err := ParseMarker(strings.NewReader(m.Format()))
		if err != nil {
			t.Fatalf("re-parsing the formatted marker %q: %v", m.Format(), err)
		}
		if d := cmp.Diff(m, again); d != "" {
			t.Fatalf("round trip changed the marker (-first +second):\n%s", d)
		}
		_, _ = ParseDeviceID(strings.NewReader(in))
	})
}
