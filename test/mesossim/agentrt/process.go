package agentrt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// proc is one running container process (a command task or an executor),
// leader of its own process group so that signals reach its children too.
type proc struct {
	pid  int
	done chan struct{} // closed once the process is reaped and its group killed
	// signalVia, when set, delivers signals instead of kill(2) on the
	// group: a Docker container is signalled through `docker kill`.
	signalVia func(syscall.Signal) error

	mu sync.Mutex
	ws syscall.WaitStatus
}

// startProcess runs cmd in dir with env, stdout and stderr appended to the
// sandbox files of those names. shell=true (the default) runs `sh -c value`;
// otherwise value is the program and arguments its argv, as in Mesos.
func startProcess(ci *mesos.CommandInfo, dir string, env []string) (*proc, error) {
	c, err := buildCmd(ci, dir, env)
	if err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(filepath.Join(dir, "stdout"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open stdout: %w", err)
	}
	stderr, err := os.OpenFile(filepath.Join(dir, "stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		stdout.Close()
		return nil, fmt.Errorf("open stderr: %w", err)
	}
	// Passing *os.File makes the child write directly: no copying goroutines.
	c.Stdout, c.Stderr = stdout, stderr
	if err := c.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		return nil, fmt.Errorf("start %q: %w", c.Path, err)
	}
	stdout.Close()
	stderr.Close()
	p := &proc{pid: c.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = c.Wait() // the exit status is read from ProcessState below
		ws, _ := c.ProcessState.Sys().(syscall.WaitStatus)
		p.mu.Lock()
		p.ws = ws
		p.mu.Unlock()
		// Destroying a Mesos container kills everything in it; do the same
		// with whatever the leader left behind in its group.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		close(p.done)
	}()
	return p, nil
}

// buildCmd turns a CommandInfo into an exec.Cmd in its own process group.
func buildCmd(ci *mesos.CommandInfo, dir string, env []string) (*exec.Cmd, error) {
	if ci == nil || ci.Value == nil {
		return nil, errors.New("command has no value")
	}
	var c *exec.Cmd
	if ci.GetShell() {
		c = exec.Command("/bin/sh", "-c", ci.GetValue())
	} else {
		path := ci.GetValue()
		if !filepath.IsAbs(path) && filepath.Base(path) == path {
			lp, err := lookPath(path, env)
			if err != nil {
				return nil, err
			}
			path = lp
		} else if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		args := ci.Arguments
		if len(args) == 0 {
			args = []string{ci.GetValue()}
		}
		c = &exec.Cmd{Path: path, Args: args}
	}
	c.Dir = dir
	c.Env = env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c, nil
}

// lookPath resolves a bare program name against the PATH of the task's
// environment (not the agent's), as execvp in the task would.
func lookPath(name string, env []string) (string, error) {
	path := ""
	for _, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			path = kv[5:]
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q not found in PATH", name)
}

// signal sends sig to the whole process group; it is a no-op once reaped.
func (p *proc) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if p.signalVia != nil {
		return p.signalVia(sig)
	}
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, p.pid, err)
	}
	return nil
}

// waitStatus is valid after done is closed.
func (p *proc) waitStatus() syscall.WaitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ws
}
