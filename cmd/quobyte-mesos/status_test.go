package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// overviewFixture is a /v1/overview body and its rendering, the golden
// files of package overview (written by its tests).
func overviewFixture(t *testing.T, name string) (body, text []byte) {
	t.Helper()
	dir := filepath.Join("overview", "testdata")
	body, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	text, err = os.ReadFile(filepath.Join(dir, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return body, text
}

func serveOverview(t *testing.T, code int, body []byte, auth string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/overview" {
			http.NotFound(w, r)
			return
		}
		if auth != "" && r.Header.Get("Authorization") != auth {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error": "authentication required"}`))
			return
		}
		w.WriteHeader(code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := dispatch(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// The output is the overview's golden rendering (no colours: not a
// terminal); the exit code says converged and healthy (0) or not (2).
func TestStatus_GoldenOutputAndExitCodes(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		code    int
	}{
		{"converged", 0},
		{"trouble", 2},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			body, text := overviewFixture(t, tc.fixture)
			srv := serveOverview(t, 200, body, "")
			code, out, errOut := runCmd("status", "--server", srv.URL+"/")
			if code != tc.code || out != string(text) || errOut != "" {
				t.Errorf("exit %d (want %d), stderr %q, output:\n%s\nwant:\n%s", code, tc.code, errOut, out, text)
			}
			code, out, _ = runCmd("status", "-json", "--server", srv.URL)
			if code != tc.code || out != string(body) {
				t.Errorf("-json: exit %d, output differs from the served body:\n%s", code, out)
			}
		})
	}
}

func TestStatus_ProblemsOnly(t *testing.T) {
	body, _ := overviewFixture(t, "converged")
	srv := serveOverview(t, 200, body, "")
	code, out, _ := runCmd("status", "--server", srv.URL, "-problems")
	if code != 0 || strings.Contains(out, "host-a1") || !strings.Contains(out, "(3 hosts without a problem not shown)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestStatus_Errors(t *testing.T) {
	body, _ := overviewFixture(t, "converged")
	secured := serveOverview(t, 200, body, "Bearer tok")
	broken := serveOverview(t, 503, []byte(`{"error": "this instance is a standby and knows no leader"}`), "")
	notOurs := serveOverview(t, 200, []byte(`{"hello": "world"}`), "")
	creds := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(creds, []byte("bearer tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no server", []string{"status"}, 1, "give --server URL"},
		{"an argument", []string{"status", "--server", broken.URL, "extra"}, 1, "no arguments"},
		{"unauthenticated", []string{"status", "--server", secured.URL}, 1, "401 Unauthorized (give --auth-file): authentication required"},
		{"standby without a leader", []string{"status", "--server", broken.URL}, 1, "503 Service Unavailable: this instance is a standby and knows no leader"},
		{"not an overview", []string{"status", "--server", notOurs.URL}, 1, "answered no overview"},
		{"nobody there", []string{"status", "--server", "http://127.0.0.1:1"}, 1, "asking http://127.0.0.1:1"},
		{"missing auth file", []string{"status", "--server", secured.URL, "--auth-file", creds + ".none"}, 1, "reading --auth-file"},
		{"authenticated", []string{"status", "--server", secured.URL, "--auth-file", creds}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errOut, tc.want)
			}
		})
	}
}

func TestStatus_Help(t *testing.T) {
	code, out, _ := runCmd("status", "--help")
	if code != 0 || !strings.Contains(out, "Exit status: 0 converged and every service healthy, 2 not") || !strings.Contains(out, "-problems") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// Colours go to a terminal only, and never with NO_COLOR set.
func TestStatus_ColorOnATerminalOnly(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if colorful(w) || colorful(&bytes.Buffer{}) {
		t.Error("colours into a pipe or a buffer")
	}
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close()
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	if !colorful(tty) {
		t.Error("no colours on a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if colorful(tty) {
		t.Error("colours with NO_COLOR set")
	}
}
