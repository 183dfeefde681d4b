package controller

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The controller decides; it never talks to Mesos and never acts. These
// tests keep it so: no Mesos client and no actuator among its imports
// (direct or not), and no clock, randomness or I/O in the planner's files.

var forbiddenImports = []string{"github.com/mesos/mesos-go", "github.com/quobyte/quobyte-mesos/actuate"}

func sourceFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", n, err)
		}
		files[n] = f
	}
	return files
}

func TestGuard_NoMesosOrActuatorImports_Direct(t *testing.T) {
	for name, f := range sourceFiles(t) {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if strings.HasPrefix(path, bad) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}

func TestGuard_NoMesosOrActuatorImports_Transitive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-e", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !strings.Contains(string(out), "github.com/quobyte/quobyte-mesos/observe/snapshot") {
		t.Fatalf("go list -deps gave no sensible answer: %v", deps)
	}
	for _, dep := range deps {
		for _, bad := range forbiddenImports {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("controller depends on %s", dep)
			}
		}
	}
}

// planFiles are the files of the pure planner.
func planFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for name := range sourceFiles(t) {
		if strings.HasPrefix(name, "plan") || name == "reasons.go" {
			out = append(out, name)
		}
	}
	if len(out) < 4 {
		t.Fatalf("found only %v as planner files", out)
	}
	return out
}

func TestGuard_PlanReadsNoClockAndDoesNoIO(t *testing.T) {
	impure := []string{"math/rand", "crypto/rand", "os", "io", "net", "net/http", "os/exec", "syscall", "sync"}
	for _, name := range planFiles(t) {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{"time.Now", "time.Since", "time.Until", "time.After", "time.Tick", "time.NewTimer", "time.NewTicker"} {
			if strings.Contains(string(src), call) {
				t.Errorf("%s calls %s: the planner's only clock is the snapshot's time", name, call)
			}
		}
		f := sourceFiles(t)[name]
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range impure {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: the planner does no I/O and draws no random numbers", name, path)
				}
			}
		}
	}
}
