package statusapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/controller"
	"github.com/quobyte/quobyte-mesos/spec"
)

func request(t *testing.T, h http.Handler, method, path, body, authorization string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func writeCreds(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "api-auth")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// With status_api.auth_file set, everything but /v1/health, /metrics and
// the artifact needs a credential of the file: without one, 401 with
// WWW-Authenticate naming each scheme of the file.
func TestAuth_ProtectsEverythingButHealthMetricsAndArtifacts(t *testing.T) {
	f := newFake()
	f.cluster.StatusAPI.AuthFile = writeCreds(t, "# CI and operators\nbearer s3cr3t-token\nbasic ci:pa:ss\n")
	f.dryRun = func([]byte, string) (*controller.Result, error) { return &controller.Result{}, nil }
	h := Handler(Config{Source: f, Metrics: NewMetrics(), Now: func() time.Time { return t0 },
		Extra: map[string]http.Handler{"GET /artifacts/x": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}})
	for _, path := range []string{"/v1/health", "/metrics", "/artifacts/x"} {
		if rec := request(t, h, "GET", path, "", ""); rec.Code != 200 {
			t.Errorf("GET %s without credentials: %d, want 200", path, rec.Code)
		}
	}
	for _, ep := range []struct{ method, path string }{
		{"GET", "/v1/status"}, {"GET", "/v1/plan"}, {"POST", "/v1/plan"}, {"GET", "/v1/snapshot"}, {"GET", "/"},
	} {
		for _, bad := range []string{"", "Bearer wrong", "Basic Y2k6cGE=", "s3cr3t-token"} {
			rec := request(t, h, ep.method, ep.path, "spec", bad)
			if rec.Code != 401 {
				t.Errorf("%s %s with %q: %d, want 401", ep.method, ep.path, bad, rec.Code)
				continue
			}
			if got := rec.Result().Header.Values("WWW-Authenticate"); strings.Join(got, "|") != `Bearer realm="quobyte-mesos"|Basic realm="quobyte-mesos"` {
				t.Errorf("%s %s: WWW-Authenticate %q", ep.method, ep.path, got)
			}
		}
		// "ci:pa:ss" in base64; the scheme is case-insensitive.
		for _, good := range []string{"Bearer s3cr3t-token", "bearer  s3cr3t-token", "Basic Y2k6cGE6c3M="} {
			if rec := request(t, h, ep.method, ep.path, "spec", good); rec.Code != 200 {
				t.Errorf("%s %s with %q: %d, want 200: %s", ep.method, ep.path, good, rec.Code, rec.Body)
			}
		}
	}
	// Rotation: a changed file (here: another size) is read again without
	// a reload.
	if err := os.WriteFile(f.cluster.StatusAPI.AuthFile, []byte("bearer new-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := request(t, h, "GET", "/v1/status", "", "Bearer s3cr3t-token"); rec.Code != 401 {
		t.Errorf("old token after rotation: %d", rec.Code)
	}
	if rec := request(t, h, "GET", "/v1/status", "", "Bearer new-token"); rec.Code != 200 {
		t.Errorf("new token after rotation: %d", rec.Code)
	}
	// A credentials file that cannot be read fails closed.
	f.cluster.StatusAPI.AuthFile = filepath.Join(t.TempDir(), "missing")
	if rec := request(t, h, "GET", "/v1/status", "", "Bearer new-token"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "cannot be read") {
		t.Errorf("missing credentials file: %d %s", rec.Code, rec.Body)
	}
}

func TestAuth_NoFileNoAuthentication(t *testing.T) {
	if rec := request(t, Handler(Config{Source: newFake()}), "GET", "/v1/status", "", ""); rec.Code != 200 {
		t.Errorf("no auth_file: %d", rec.Code)
	}
}

func TestParseCredentials(t *testing.T) {
	creds, err := ParseCredentials([]byte("\n# comment\nbearer abc\nBASIC u:p\n"))
	if err != nil || len(creds) != 2 || creds[0].Authorization() != "Bearer abc" || creds[1].Authorization() != "Basic dTpw" {
		t.Fatalf("got %+v, %v", creds, err)
	}
	for _, bad := range []string{"", "# only a comment\n", "token abc", "bearer", "bearer a b", "basic nopassword", "basic :p"} {
		if _, err := ParseCredentials([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A body over MaxBodyBytes is refused with 413, whether its length is
// announced or not.
func TestLimits_RequestBodyCapped(t *testing.T) {
	f := newFake()
	f.dryRun = func(src []byte, _ string) (*controller.Result, error) { return &controller.Result{}, nil }
	h := Handler(Config{Source: f})
	big := strings.Repeat("#", MaxBodyBytes+1)
	if rec := request(t, h, "POST", "/v1/plan", big, ""); rec.Code != 413 {
		t.Errorf("announced oversize body: %d", rec.Code)
	}
	req := httptest.NewRequest("POST", "/v1/plan", strings.NewReader(big))
	req.ContentLength = -1 // chunked: length unknown
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("unannounced oversize body: %d", rec.Code)
	}
	if spec.MaxFileSize > MaxBodyBytes {
		t.Errorf("a spec the loader accepts (%d bytes) cannot be posted (%d)", spec.MaxFileSize, MaxBodyBytes)
	}
}

// At most MaxDryRuns dry runs run at once; the next is answered 429 with
// Retry-After at once, and is admitted again when one ends.
func TestLimits_ConcurrentDryRunsBounded(t *testing.T) {
	f := newFake()
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	f.dryRun = func([]byte, string) (*controller.Result, error) {
		started <- struct{}{}
		<-release
		return &controller.Result{}, nil
	}
	h := Handler(Config{Source: f, MaxDryRuns: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := request(t, h, "POST", "/v1/plan", "spec", ""); rec.Code != 200 {
				t.Errorf("admitted dry run: %d", rec.Code)
			}
		}()
	}
	<-started
	<-started
	rec := request(t, h, "POST", "/v1/plan", "spec", "")
	if rec.Code != 429 || rec.Result().Header.Get("Retry-After") != "1" {
		t.Errorf("third dry run: %d, Retry-After %q", rec.Code, rec.Result().Header.Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	if rec := request(t, h, "POST", "/v1/plan", "spec", ""); rec.Code != 200 {
		t.Errorf("dry run after the others ended: %d", rec.Code)
	}
}

func TestConfigureServer_SetsTimeouts(t *testing.T) {
	var srv http.Server
	ConfigureServer(&srv)
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes != MaxHeaderBytes {
		t.Errorf("server limits not set: %v %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

// /v1/status has one JSON style: every key is snake_case (it mixed
// "State", "FrameworkID" with snake_case).
func TestStatus_KeysAreSnakeCase(t *testing.T) {
	rec := request(t, Handler(Config{Source: newFake(), Now: func() time.Time { return t0 }}), "GET", "/v1/status", "", "")
	var doc any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				// The services of a host are keyed by kind: data, not style.
				if !snake.MatchString(k) && !strings.HasSuffix(path, ".services") {
					t.Errorf("key %s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", doc)
	if !strings.Contains(rec.Body.String(), `"framework_id": "fw"`) {
		t.Errorf("subscription not in snake_case:\n%s", rec.Body)
	}
}
