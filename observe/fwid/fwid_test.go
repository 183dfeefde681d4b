package fwid

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quobyte/quobyte-mesos/test/zktest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestFileStore_LoadMissingIsEmpty(t *testing.T) {
	s := NewFileStore(filepath.Join(t.TempDir(), "no", "such", "id"))
	id, err := s.Load(ctx(t))
	if err != nil || id != "" {
		t.Fatalf("Load = %q, %v; want empty, nil", id, err)
	}
}

func TestFileStore_SaveThenLoad_CreatesDirsLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state", "framework-id")
	s := NewFileStore(p)
	for _, id := range []string{"fw-1", "fw-2-longer-than-before", "fw-3"} {
		if err := s.Save(ctx(t), id); err != nil {
			t.Fatalf("Save(%q): %v", id, err)
		}
		got, err := s.Load(ctx(t))
		if err != nil || got != id {
			t.Fatalf("Load = %q, %v; want %q", got, err, id)
		}
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the id file: %v", len(ents), ents)
	}
}

func TestFileStore_SaveRejectsBadID(t *testing.T) {
	s := NewFileStore(filepath.Join(t.TempDir(), "id"))
	for _, id := range []string{"", "a\nb"} {
		if err := s.Save(ctx(t), id); err == nil {
			t.Errorf("Save(%q) succeeded, want error", id)
		}
	}
}

// A reader running alongside writers must only ever see a whole ID, never an
// empty or torn file: the write is a rename of a complete temp file.
func TestFileStore_ConcurrentReadersSeeWholeIDs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "id")
	s := NewFileStore(p)
	ids := []string{strings.Repeat("a", 3000), strings.Repeat("b", 10), strings.Repeat("c", 7000)}
	if err := s.Save(ctx(t), ids[0]); err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{}
	for _, id := range ids {
		valid[id] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.Save(context.Background(), ids[i%len(ids)]); err != nil {
				t.Errorf("Save: %v", err)
				return
			}
		}
	}()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		got, err := s.Load(ctx(t))
		if err != nil || !valid[got] {
			t.Fatalf("Load during writes = %d bytes %.20q, %v; want a whole id", len(got), got, err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestFileStore_SaveFailureKeepsOldID(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "id")
	s := NewFileStore(p)
	if err := s.Save(ctx(t), "old"); err != nil {
		t.Fatal(err)
	}
	// Make the target a non-empty directory's sibling that cannot be replaced:
	// a rename over a directory fails.
	bad := NewFileStore(filepath.Join(dir, "sub"))
	if err := os.MkdirAll(filepath.Join(dir, "sub", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := bad.Save(ctx(t), "new"); err == nil {
		t.Fatal("Save over a directory succeeded, want error")
	}
	if got, _ := s.Load(ctx(t)); got != "old" {
		t.Fatalf("old id = %q, want old", got)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}

func TestOpen_URLs(t *testing.T) {
	for _, tc := range []struct {
		url     string
		wantErr bool
	}{
		{"file:///var/lib/x/framework-id", false},
		{"file://localhost/var/lib/x/framework-id", false},
		{"file://host/x", true},
		{"file:///", true},
		{"zk://h1:2181,h2/quobyte/fwid", false},
		{"zk://h1:2181", true},
		{"zk:///x", true},
		{"http://x/y", true},
		{"/plain/path", true},
	} {
		s, err := Open(tc.url)
		if (err != nil) != tc.wantErr {
			t.Errorf("Open(%q) error = %v, wantErr %v", tc.url, err, tc.wantErr)
		}
		if s != nil {
			s.Close()
		}
	}
}

func TestParseZKURL(t *testing.T) {
	servers, p, err := ParseZKURL("zk://h1:2181, h2 ,h3:2888/a/b/")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(servers, " ") != "h1:2181 h2:2181 h3:2888" || p != "/a/b" {
		t.Fatalf("got %v %q", servers, p)
	}
}

func TestZKStore_RealZooKeeper(t *testing.T) {
	zs := zktest.Start(t)
	s, err := Open(zs.URL("/quobyte-mesos/test/framework-id"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id, err := s.Load(ctx(t)); err != nil || id != "" {
		t.Fatalf("Load before Save = %q, %v; want empty", id, err)
	}
	for _, id := range []string{"fw-a", "fw-b"} {
		if err := s.Save(ctx(t), id); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if got, err := s.Load(ctx(t)); err != nil || got != id {
			t.Fatalf("Load = %q, %v; want %q", got, err, id)
		}
	}
	// Another session (another framework instance) sees the same ID.
	c := zs.Connect(t)
	b, _, err := c.Get("/quobyte-mesos/test/framework-id")
	if err != nil || string(b) != "fw-b" {
		t.Fatalf("node data = %q, %v", b, err)
	}
	// After a teardown the ID is cleared, twice harmlessly.
	for i := 0; i < 2; i++ {
		if err := s.Clear(ctx(t)); err != nil {
			t.Fatalf("Clear: %v", err)
		}
	}
	if id, err := s.Load(ctx(t)); err != nil || id != "" {
		t.Fatalf("Load after Clear = %q, %v; want empty", id, err)
	}
}

func TestFileStore_Clear(t *testing.T) {
	s, err := Open("file://" + filepath.Join(t.TempDir(), "fw", "id"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx(t)); err != nil {
		t.Fatalf("Clear of nothing: %v", err)
	}
	if err := s.Save(ctx(t), "fw-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if id, err := s.Load(ctx(t)); err != nil || id != "" {
		t.Fatalf("Load after Clear = %q, %v; want empty", id, err)
	}
}

func TestZKStore_ContextEndsWaitOnDeadServer(t *testing.T) {
	s := NewZKStore([]string{"127.0.0.1:1"}, "/x", time.Second)
	defer s.Close()
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Load(c); err == nil {
		t.Fatal("Load against a dead server succeeded")
	}
}
