package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// childCommand is how kfc-node re-executes itself inside the container's new mount
// namespace: it mounts the volumes where the container expects them, takes the container's
// user and group, and replaces itself with the container's command.
const childCommand = "__kfc-node-container"

type childMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly"`
}

type childSpec struct {
	Argv    []string     `json:"argv"`
	Env     []string     `json:"env"`
	WorkDir string       `json:"workDir"`
	UID     int          `json:"uid"`
	GID     int          `json:"gid"`
	Groups  []int        `json:"groups"`
	Mounts  []childMount `json:"mounts"`
}

func child(args []string) int {
	if err := childExec(args); err != nil {
		fmt.Fprintf(os.Stderr, "kfc-node: %v\n", err)
		return 127
	}
	return 0
}

func childExec(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: %s SPEC", childCommand)
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var spec childSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return err
	}
	// nothing mounted here may reach the host's mount table
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("private mounts: %w", err)
	}
	// open every source first: a mount over a parent directory (an emptyDir at /tmp) would
	// hide the sources below it; the bind then goes through /proc/self/fd
	fds := make([]int, len(spec.Mounts))
	for i, m := range spec.Mounts {
		fd, err := syscall.Open(m.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("mount %s: %s: %w", m.Target, m.Source, err)
		}
		fds[i] = fd
	}
	for i, m := range spec.Mounts {
		if err := bindMount(m, fds[i]); err != nil {
			return err
		}
	}
	if err := syscall.Setgroups(spec.Groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(spec.GID, spec.GID, spec.GID); err != nil {
		return fmt.Errorf("setgid %d: %w", spec.GID, err)
	}
	if err := syscall.Setresuid(spec.UID, spec.UID, spec.UID); err != nil {
		return fmt.Errorf("setuid %d: %w", spec.UID, err)
	}
	dir := spec.WorkDir
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("workingDir %s: %w", dir, err)
	}
	for _, kv := range spec.Env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			_ = os.Setenv("PATH", kv[5:])
		}
	}
	bin, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		return fmt.Errorf("command %q: not on this host's PATH (%s): %w", spec.Argv[0], os.Getenv("PATH"), err)
	}
	return syscall.Exec(bin, spec.Argv, spec.Env)
}

func bindMount(m childMount, fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fmt.Errorf("mount %s: %w", m.Target, err)
	}
	isDir := st.Mode&syscall.S_IFMT == syscall.S_IFDIR
	var err error
	if isDir {
		err = os.MkdirAll(m.Target, 0o755)
	} else if err = os.MkdirAll(filepath.Dir(m.Target), 0o755); err == nil {
		var f *os.File
		if f, err = os.OpenFile(m.Target, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("mount point %s: %w", m.Target, err)
	}
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), m.Target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("mount %s at %s: %w", m.Source, m.Target, err)
	}
	if m.ReadOnly {
		if err := syscall.Mount("", m.Target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("read-only %s: %w", m.Target, err)
		}
	}
	return nil
}
