package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const maxMessage = 4096

// runContainer runs one container's command as a child in a private mount namespace and
// returns how it ended; its output goes to dir/<container>.log.
func (r *runner) runContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, volumes map[string]string, dir string) containerResult {
	res := containerResult{name: c.Name, started: time.Now()}
	fail := func(reason string, err error) containerResult {
		res.exitCode, res.reason, res.message, res.finished = 1, reason, err.Error(), time.Now()
		return res
	}
	env, err := r.containerEnv(ctx, pod, c)
	if err != nil {
		return fail("CreateContainerConfigError", err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	argv := append(expandAll(c.Command, vars), expandAll(c.Args, vars)...)
	if len(c.Command) == 0 {
		return fail("CreateContainerError", fmt.Errorf("container %q has no command: its image's entrypoint is unknown on this host", c.Name))
	}
	spec := childSpec{Argv: argv, Env: env, WorkDir: c.WorkingDir}
	spec.UID, spec.GID, spec.Groups = identity(pod, c)
	for _, m := range c.VolumeMounts {
		src, ok := volumes[m.Name]
		if !ok {
			return fail("CreateContainerConfigError", fmt.Errorf("volumeMount %q names no volume", m.Name))
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
		}
		spec.Mounts = append(spec.Mounts, childMount{Source: src, Target: m.MountPath, ReadOnly: m.ReadOnly})
	}
	specFile := filepath.Join(dir, c.Name+".spec.json")
	raw, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(specFile, raw, 0o600); err != nil {
		return fail("CreateContainerError", err)
	}
	logFile := filepath.Join(dir, c.Name+".log")
	log, err := os.Create(logFile)
	if err != nil {
		return fail("CreateContainerError", err)
	}
	defer log.Close()
	self, _ := os.Executable()
	cmd := exec.Command(self, childCommand, specFile)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fail("StartError", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case werr = <-waited:
		case <-time.After(grace(pod)):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			werr = <-waited
		}
	}
	res.finished = time.Now()
	res.exitCode = exitCode(werr)
	res.reason = "Completed"
	if res.exitCode != 0 {
		res.reason = "Error"
	}
	res.message = tail(logFile, maxMessage)
	return res
}

func grace(pod *corev1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && *g < 10 {
		return time.Duration(*g) * time.Second
	}
	return 10 * time.Second
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}

func tail(file string, n int64) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// identity is the user, group and supplementary groups the container runs as.
func identity(pod *corev1.Pod, c *corev1.Container) (uid, gid int, groups []int) {
	if sc := pod.Spec.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = int(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			gid = int(*sc.RunAsGroup)
		}
		if sc.FSGroup != nil {
			groups = append(groups, int(*sc.FSGroup))
		}
		for _, g := range sc.SupplementalGroups {
			groups = append(groups, int(g))
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			uid = int(*sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			gid = int(*sc.RunAsGroup)
		}
	}
	return uid, gid, groups
}

// containerEnv resolves the container's environment the way the kubelet does: the API
// server's address, envFrom, then env in order with $(VAR) references to earlier variables.
func (r *runner) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	vars := map[string]string{
		"PATH":                    r.o.toolPath,
		"HOSTNAME":                pod.Name,
		"HOME":                    "/",
		"KUBERNETES_SERVICE_HOST": r.o.apiHost,
		"KUBERNETES_SERVICE_PORT": r.o.apiPort,
		"KUBERNETES_PORT":         "tcp://" + r.o.apiHost + ":" + r.o.apiPort,
	}
	order := []string{"PATH", "HOSTNAME", "HOME", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_PORT"}
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			cm, err := r.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				if from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("envFrom ConfigMap %s: %w", from.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case from.SecretRef != nil:
			s, err := r.client.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				if from.SecretRef.Optional != nil && *from.SecretRef.Optional {
					continue
				}
				return nil, fmt.Errorf("envFrom Secret %s: %w", from.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v, skip, err := r.envValue(ctx, pod, c, e, vars)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

func (r *runner) envValue(ctx context.Context, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar, vars map[string]string) (string, bool, error) {
	if e.ValueFrom == nil {
		return expand(e.Value, vars), false, nil
	}
	vf := e.ValueFrom
	switch {
	case vf.FieldRef != nil:
		v, err := fieldValue(pod, vf.FieldRef.FieldPath)
		return v, false, err
	case vf.SecretKeyRef != nil:
		s, err := r.client.CoreV1().Secrets(pod.Namespace).Get(ctx, vf.SecretKeyRef.Name, metav1.GetOptions{})
		optional := vf.SecretKeyRef.Optional != nil && *vf.SecretKeyRef.Optional
		if err != nil {
			return "", optional, map[bool]error{true: nil, false: fmt.Errorf("Secret %s: %w", vf.SecretKeyRef.Name, err)}[optional]
		}
		v, ok := s.Data[vf.SecretKeyRef.Key]
		if !ok && !optional {
			return "", false, fmt.Errorf("Secret %s has no key %q", vf.SecretKeyRef.Name, vf.SecretKeyRef.Key)
		}
		return string(v), !ok, nil
	case vf.ConfigMapKeyRef != nil:
		cm, err := r.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, vf.ConfigMapKeyRef.Name, metav1.GetOptions{})
		optional := vf.ConfigMapKeyRef.Optional != nil && *vf.ConfigMapKeyRef.Optional
		if err != nil {
			return "", optional, map[bool]error{true: nil, false: fmt.Errorf("ConfigMap %s: %w", vf.ConfigMapKeyRef.Name, err)}[optional]
		}
		v, ok := cm.Data[vf.ConfigMapKeyRef.Key]
		if !ok && !optional {
			return "", false, fmt.Errorf("ConfigMap %s has no key %q", vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key)
		}
		return v, !ok, nil
	case vf.ResourceFieldRef != nil:
		return resourceValue(c, vf.ResourceFieldRef), false, nil
	}
	return "", false, fmt.Errorf("unsupported valueFrom")
}

func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) string {
	kind, name, _ := strings.Cut(ref.Resource, ".")
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "0"
	}
	if name == "cpu" {
		return fmt.Sprint(q.MilliValue()/1000 + map[bool]int64{true: 1, false: 0}[q.MilliValue()%1000 != 0])
	}
	return fmt.Sprint(q.Value())
}

var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(VAR) by a defined variable, leaves undefined references as they are and
// turns $$ into $, as Kubernetes does for env values, command and args.
func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := vars[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func expandAll(in []string, vars map[string]string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
