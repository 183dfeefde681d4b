package agentrt

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// fetchURIs does the Mesos fetcher's job for one container: every URI is
// downloaded into the sandbox (named by output_file or the URI's last path
// segment), then made executable if asked, else extracted if it is an
// archive and extract is set (the default). The cache flag is ignored.
func (a *Agent) fetchURIs(ctx context.Context, uris []mesos.CommandInfo_URI, sandbox string) error {
	for _, u := range uris {
		if err := a.fetchOne(ctx, u, sandbox); err != nil {
			return fmt.Errorf("fetch %q: %w", u.Value, err)
		}
	}
	return nil
}

func (a *Agent) fetchOne(ctx context.Context, u mesos.CommandInfo_URI, sandbox string) error {
	name := u.GetOutputFile()
	if name == "" {
		name = baseName(u.Value)
	}
	dst, err := insideDir(sandbox, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if err := a.download(ctx, u.Value, dst); err != nil {
		return err
	}
	if u.GetExecutable() {
		return os.Chmod(dst, 0o755)
	}
	if u.GetExtract() {
		return extract(dst, sandbox)
	}
	return nil
}

// baseName is the last path segment of a URI (query and fragment dropped).
func baseName(raw string) string {
	if pu, err := url.Parse(raw); err == nil && pu.Scheme != "" {
		raw = pu.Path
	}
	return path.Base(raw)
}

// download copies an http(s), file:// or absolute-path URI to dst, through
// installFile. A download from the network lands in a temporary file first,
// so that the network's pace never holds up the agent's forks.
func (a *Agent) download(ctx context.Context, raw, dst string) error {
	pu, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse URI: %w", err)
	}
	switch pu.Scheme {
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		res, err := a.http.Do(req)
		if err != nil {
			return fmt.Errorf("download: %w", err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("download: HTTP status %d", res.StatusCode)
		}
		tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
		if err != nil {
			return fmt.Errorf("download: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, res.Body); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("download: %w", err)
		}
		return installFile(dst, tmp, 0o644)
	case "file", "":
		p := pu.Path
		if !filepath.IsAbs(p) {
			return errors.New("relative paths are not supported by the fetcher")
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		defer f.Close()
		return installFile(dst, f, 0o644)
	default:
		return fmt.Errorf("unsupported URI scheme %q", pu.Scheme)
	}
}

// installFile writes r to dst so that no process can inherit a descriptor
// open for writing on it. Every process of a simulated cluster is forked by
// this one, and a child holds a copy of each of the parent's descriptors
// from fork until its exec closes them (O_CLOEXEC). A task that execs a
// file another child still holds open for writing fails with "Text file
// busy" (ETXTBSY). So the file is written under syscall.ForkLock held for
// reading, which keeps os/exec from forking until it is closed, under a
// temporary name, and renamed into place only when complete.
func installFile(dst string, r io.Reader, mode os.FileMode) error {
	tmp, err := writeTemp(dst, r, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("install %s: %w", filepath.Base(dst), err)
	}
	return nil
}

func writeTemp(dst string, r io.Reader, mode os.FileMode) (string, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create %s: %w", dst, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	return f.Name(), nil
}

// extract unpacks tar (plain, gzip, bzip2) and zip archives into dir and
// gunzips a plain .gz file next to itself; other files (xz archives among
// them: no xz in the standard library) are left as they are, as the Mesos
// fetcher does with what it cannot extract. The archive stays.
func extract(file, dir string) error {
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return extractTar(file, dir, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })
	case strings.HasSuffix(lower, ".tar.bz2"), strings.HasSuffix(lower, ".tbz2"):
		return extractTar(file, dir, func(r io.Reader) (io.Reader, error) { return bzip2.NewReader(r), nil })
	case strings.HasSuffix(lower, ".tar"):
		return extractTar(file, dir, func(r io.Reader) (io.Reader, error) { return r, nil })
	case strings.HasSuffix(lower, ".zip"):
		return extractZip(file, dir)
	case strings.HasSuffix(lower, ".gz"):
		return gunzip(file)
	}
	return nil
}

func extractTar(file, dir string, decompress func(io.Reader) (io.Reader, error)) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	r, err := decompress(f)
	if err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		dst, err := insideDir(dir, h.Name)
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeReg:
			err = writeFile(dst, tr, os.FileMode(h.Mode)&0o777)
		case tar.TypeSymlink:
			// Only links that stay inside the sandbox, so later entries
			// cannot be written through them to elsewhere.
			if _, lerr := insideDir(filepath.Dir(dst), h.Linkname); lerr != nil || filepath.IsAbs(h.Linkname) {
				return fmt.Errorf("extract %s: symlink %q escapes the sandbox", filepath.Base(file), h.Name)
			}
			if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
				err = os.Symlink(h.Linkname, dst)
			}
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
	}
}

func gunzip(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
	}
	if err := writeFile(file[:len(file)-len(".gz")], zr, 0o644); err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
	}
	return nil
}

func extractZip(file, dir string) error {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		dst, err := insideDir(dir, zf.Name)
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
			}
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
		mode := zf.Mode() & 0o777
		if mode == 0 {
			mode = 0o644
		}
		err = writeFile(dst, rc, mode)
		rc.Close()
		if err != nil {
			return fmt.Errorf("extract %s: %w", filepath.Base(file), err)
		}
	}
	return nil
}

func writeFile(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return installFile(dst, r, mode)
}

// insideDir joins name under dir and refuses names that climb out of it.
func insideDir(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(name) && !strings.HasPrefix(p, dir) {
		return "", fmt.Errorf("path %q escapes the sandbox", name)
	}
	return p, nil
}
