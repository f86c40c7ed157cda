package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// prepareVolumes writes every volume of the pod under dir/volumes/<name> and returns the host
// directory of each. ServiceAccount tokens come from the TokenRequest API, bound to the pod.
func (r *runner) prepareVolumes(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		host := filepath.Join(dir, "volumes", v.Name)
		if err := os.MkdirAll(host, 0o755); err != nil {
			return nil, err
		}
		var files map[string]fileContent
		var err error
		switch {
		case v.EmptyDir != nil:
			err = os.Chmod(host, 0o777)
		case v.ConfigMap != nil:
			files, err = r.configMapFiles(ctx, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, v.ConfigMap.DefaultMode)
		case v.Secret != nil:
			files, err = r.secretFiles(ctx, pod.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, v.Secret.DefaultMode)
		case v.DownwardAPI != nil:
			files, err = downwardFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		case v.Projected != nil:
			files, err = r.projectedFiles(ctx, pod, v.Projected)
		default:
			err = fmt.Errorf("volume %q: only emptyDir, configMap, secret, downwardAPI and projected volumes run on this host", v.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("volume %q: %w", v.Name, err)
		}
		for rel, f := range files {
			p := filepath.Join(host, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(p, f.data, f.mode); err != nil {
				return nil, err
			}
			_ = os.Chmod(p, f.mode)
		}
		out[v.Name] = host
	}
	return out, nil
}

type fileContent struct {
	data []byte
	mode os.FileMode
}

func mode(m *int32, def int32) os.FileMode {
	if m != nil {
		return os.FileMode(*m)
	}
	return os.FileMode(def)
}

// keyFiles maps a ConfigMap's or Secret's keys to files, through items when given.
func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, what string) (map[string]fileContent, error) {
	files := map[string]fileContent{}
	if len(items) == 0 {
		for k, v := range data {
			files[k] = fileContent{v, mode(defaultMode, 0o644)}
		}
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("%s has no key %q", what, it.Key)
		}
		m := defaultMode
		if it.Mode != nil {
			m = it.Mode
		}
		files[it.Path] = fileContent{v, mode(m, 0o644)}
	}
	return files, nil
}

func (r *runner) configMapFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, defaultMode *int32) (map[string]fileContent, error) {
	cm, err := r.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, defaultMode, "ConfigMap "+ns+"/"+name)
}

func (r *runner) secretFiles(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, defaultMode *int32) (map[string]fileContent, error) {
	s, err := r.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return nil, nil
		}
		return nil, fmt.Errorf("Secret %s/%s: %w", ns, name, err)
	}
	return keyFiles(s.Data, items, defaultMode, "Secret "+ns+"/"+name)
}

func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defaultMode *int32) (map[string]fileContent, error) {
	files := map[string]fileContent{}
	for _, it := range items {
		if it.FieldRef == nil {
			return nil, fmt.Errorf("downwardAPI %q: only fieldRef is supported on this host", it.Path)
		}
		v, err := fieldValue(pod, it.FieldRef.FieldPath)
		if err != nil {
			return nil, err
		}
		m := defaultMode
		if it.Mode != nil {
			m = it.Mode
		}
		files[it.Path] = fileContent{[]byte(v), mode(m, 0o644)}
	}
	return files, nil
}

func (r *runner) projectedFiles(ctx context.Context, pod *corev1.Pod, p *corev1.ProjectedVolumeSource) (map[string]fileContent, error) {
	files := map[string]fileContent{}
	add := func(fs map[string]fileContent, err error) error {
		if err != nil {
			return err
		}
		for k, v := range fs {
			if p.DefaultMode != nil {
				v.mode = os.FileMode(*p.DefaultMode)
			}
			files[k] = v
		}
		return nil
	}
	for _, s := range p.Sources {
		var err error
		switch {
		case s.ServiceAccountToken != nil:
			var tok string
			tok, err = r.token(ctx, pod, s.ServiceAccountToken.Audience, s.ServiceAccountToken.ExpirationSeconds)
			if err == nil {
				files[s.ServiceAccountToken.Path] = fileContent{[]byte(tok), mode(p.DefaultMode, 0o644)}
			}
		case s.ConfigMap != nil:
			err = add(r.configMapFiles(ctx, pod.Namespace, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, p.DefaultMode))
		case s.Secret != nil:
			err = add(r.secretFiles(ctx, pod.Namespace, s.Secret.Name, s.Secret.Items, s.Secret.Optional, p.DefaultMode))
		case s.DownwardAPI != nil:
			err = add(downwardFiles(pod, s.DownwardAPI.Items, p.DefaultMode))
		default:
			err = fmt.Errorf("only serviceAccountToken, configMap, secret and downwardAPI projections run on this host")
		}
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// token asks the API server for a token of the pod's ServiceAccount, bound to the pod: what
// the kubelet mounts, so the pod's requests meet the real authenticator and authorizer.
func (r *runner) token(ctx context.Context, pod *corev1.Pod, audience string, expiration *int64) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	spec := authenticationv1.TokenRequestSpec{
		ExpirationSeconds: expiration,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}
	if audience != "" {
		spec.Audiences = []string{audience}
	}
	tr, err := r.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token of ServiceAccount %s/%s: %w", pod.Namespace, sa, err)
	}
	return tr.Status.Token, nil
}

// fieldValue resolves a downward API field path of the pod.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.podIP":
		return "127.0.0.1", nil
	case "metadata.labels", "metadata.annotations":
		m := pod.Labels
		if path == "metadata.annotations" {
			m = pod.Annotations
		}
		var lines []string
		for k, v := range m {
			lines = append(lines, fmt.Sprintf("%s=%q", k, v))
		}
		return strings.Join(lines, "\n"), nil
	}
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(path, prefix) && strings.HasSuffix(path, "']") {
			key := strings.TrimSuffix(strings.TrimPrefix(path, prefix), "']")
			if strings.HasPrefix(prefix, "metadata.labels") {
				return pod.Labels[key], nil
			}
			return pod.Annotations[key], nil
		}
	}
	return "", fmt.Errorf("field %q is not supported on this host", path)
}
