package fwid

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FileStore keeps the framework ID in a local file.
type FileStore struct {
	path string
}

// NewFileStore returns a store for the file at path. The directory is
// created on the first Save.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// Load reads the ID; a missing file means none was saved.
func (s *FileStore) Load(ctx context.Context) (string, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load framework id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Clear removes the file (and makes the removal durable); a missing file
// is already clear.
func (s *FileStore) Clear(ctx context.Context) error {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear framework id: %w", err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Save writes id atomically: a reader (or a crash at any moment) sees the
// old content or the new one, never a torn file. The order matters: write
// and fsync a temp file in the same directory, rename it over the target,
// then fsync the directory so the rename itself is durable.
func (s *FileStore) Save(ctx context.Context, id string) (err error) {
	if id == "" || strings.ContainsAny(id, "\n\r") {
		return fmt.Errorf("save framework id %q: invalid id", id)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.WriteString(id + "\n"); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save framework id: write %s: %w", tmp.Name(), err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	if err = os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("save framework id: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("save framework id: open dir for sync: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("save framework id: sync dir %s: %w", dir, err)
	}
	return nil
}
