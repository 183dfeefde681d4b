package statusapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// The credentials file (the spec's status_api { auth_file = ... }, and
// `plan --auth-file` on the client's side) holds one credential a line;
// blank lines and lines starting with '#' are ignored:
//
//	bearer 3q2+7w1xK5pQ...          a bearer token
//	basic ci:correct-horse-battery  basic auth, user:password
//
// The server accepts any credential of the file (several allow rotation
// without downtime: add the new one, move the clients, remove the old one);
// a client sends the first. The file is read again whenever it changes, so
// rotating needs no reload.

// Credential is one accepted credential: the Authorization header value a
// client sends for it.
type Credential struct {
	Scheme string // "Bearer" or "Basic"
	// header is the whole Authorization header value.
	header string
}

// Authorization is the value of the Authorization header carrying c.
func (c Credential) Authorization() string { return c.header }

// ParseCredentials reads a credentials file's content.
func ParseCredentials(data []byte) ([]Credential, error) {
	var out []Credential
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		scheme, secret, _ := strings.Cut(line, " ")
		secret = strings.TrimSpace(secret)
		switch strings.ToLower(scheme) {
		case "bearer":
			if secret == "" || strings.ContainsAny(secret, " \t") {
				return nil, fmt.Errorf("line %d: write \"bearer TOKEN\", a token without spaces", n)
			}
			out = append(out, Credential{Scheme: "Bearer", header: "Bearer " + secret})
		case "basic":
			user, _, ok := strings.Cut(secret, ":")
			if !ok || user == "" {
				return nil, fmt.Errorf("line %d: write \"basic USER:PASSWORD\"", n)
			}
			out = append(out, Credential{Scheme: "Basic", header: "Basic " + base64.StdEncoding.EncodeToString([]byte(secret))})
		default:
			return nil, fmt.Errorf("line %d: a credential starts with \"bearer\" or \"basic\"", n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no credential in the file")
	}
	return out, nil
}

// ReadCredentials reads a credentials file.
func ReadCredentials(path string) ([]Credential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	creds, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return creds, nil
}

// Auth checks requests against the credentials file that File names (read
// again when its name, size or modification time changes). File returning
// "" means no authentication. Wrap every handler that needs it with
// Require; the zero value is not usable, use NewAuth.
type Auth struct {
	file func() string

	mu     sync.Mutex
	loaded authFile
}

// authFile is a read credentials file and what identifies its version.
type authFile struct {
	path    string
	size    int64
	modTime time.Time
	digests [][sha256.Size]byte
	schemes []string
	err     error
}

// NewAuth returns an Auth reading the credentials file that file names.
func NewAuth(file func() string) *Auth { return &Auth{file: file} }

// realm names the protection space in WWW-Authenticate.
const realm = "quobyte-mesos"

// Require wraps h: a request without an accepted credential is answered
// 401 with WWW-Authenticate (or 503 when the credentials file cannot be
// read: failing closed), and never reaches h.
func (a *Auth) Require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := a.file()
		if path == "" {
			h.ServeHTTP(w, r)
			return
		}
		f := a.current(path)
		if f.err != nil {
			writeJSON(w, http.StatusServiceUnavailable, errorBody("authentication is configured but its credentials cannot be read: "+f.err.Error()))
			return
		}
		if !f.accepts(r.Header.Get("Authorization")) {
			for _, s := range f.schemes {
				w.Header().Add("WWW-Authenticate", fmt.Sprintf("%s realm=%q", s, realm))
			}
			writeJSON(w, http.StatusUnauthorized, errorBody("authentication required: send a credential of the status API's auth_file (plan --auth-file FILE)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// current returns the credentials file at path, reading it again when it
// changed. A stat per request is the price of rotation without reload.
func (a *Auth) current(path string) authFile {
	a.mu.Lock()
	defer a.mu.Unlock()
	info, err := os.Stat(path)
	if err != nil {
		a.loaded = authFile{path: path, err: err}
		return a.loaded
	}
	l := &a.loaded
	if l.err == nil && l.path == path && l.size == info.Size() && l.modTime.Equal(info.ModTime()) {
		return *l
	}
	f := authFile{path: path, size: info.Size(), modTime: info.ModTime()}
	creds, err := ReadCredentials(path)
	f.err = err
	seen := map[string]bool{}
	for _, c := range creds {
		f.digests = append(f.digests, sha256.Sum256([]byte(normalize(c.header))))
		if !seen[c.Scheme] {
			seen[c.Scheme] = true
			f.schemes = append(f.schemes, c.Scheme)
		}
	}
	a.loaded = f
	return f
}

// accepts compares the presented header with every credential in constant
// time (of equal-length digests, so neither content nor length leaks).
func (f authFile) accepts(header string) bool {
	if header == "" {
		return false
	}
	got := sha256.Sum256([]byte(normalize(header)))
	ok := 0
	for _, d := range f.digests {
		ok |= subtle.ConstantTimeCompare(got[:], d[:])
	}
	return ok == 1
}

// normalize writes an Authorization value with its scheme in lower case
// (schemes are case-insensitive: RFC 9110, 11.1) and one space after it.
func normalize(header string) string {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	return strings.ToLower(scheme) + " " + strings.TrimSpace(rest)
}
