// flux-values prints the values helm-controller passes to Helm for each HelmRelease of a YAML
// stream: it runs Flux's own merge (github.com/fluxcd/pkg/chartutil.ChartValuesFromReferences, as
// helm-controller calls it) against the ConfigMaps and Secrets of the same stream, held by a fake
// Kubernetes client. Input on stdin; output: a JSON object "namespace/name" -> values, or an error
// naming the HelmRelease (exit 1). Used by the tests (test/flux-examples.test.ts); pinned by go.mod.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/chartutil"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	releases, objects, err := read(in)
	if err != nil {
		return err
	}
	c := fake.NewClientBuilder().WithObjects(objects...).Build()
	result := map[string]any{}
	for _, hr := range releases {
		values, err := chartutil.ChartValuesFromReferences(context.Background(), logr.Discard(), c, hr.Namespace, hr.GetValues(), hr.Spec.ValuesFrom...)
		if err != nil {
			return fmt.Errorf("HelmRelease %s/%s: %w", hr.Namespace, hr.Name, err)
		}
		result[hr.Namespace+"/"+hr.Name] = map[string]any(values)
	}
	return json.NewEncoder(out).Encode(result)
}

// read splits the stream into HelmReleases and the ConfigMaps and Secrets they may reference.
func read(in io.Reader) ([]helmv2.HelmRelease, []client.Object, error) {
	var releases []helmv2.HelmRelease
	var objects []client.Object
	r := k8syaml.NewYAMLReader(bufio.NewReader(in))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return releases, objects, nil
		}
		if err != nil {
			return nil, nil, err
		}
		var meta runtime.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, nil, err
		}
		switch meta.Kind {
		case "HelmRelease":
			var hr helmv2.HelmRelease
			if err := yaml.UnmarshalStrict(doc, &hr); err != nil {
				return nil, nil, fmt.Errorf("HelmRelease: %w", err)
			}
			releases = append(releases, hr)
		case "ConfigMap":
			var cm corev1.ConfigMap
			if err := yaml.UnmarshalStrict(doc, &cm); err != nil {
				return nil, nil, fmt.Errorf("ConfigMap: %w", err)
			}
			objects = append(objects, &cm)
		case "Secret":
			var s corev1.Secret
			if err := yaml.UnmarshalStrict(doc, &s); err != nil {
				return nil, nil, fmt.Errorf("Secret: %w", err)
			}
			// what the API server does with stringData
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			for k, v := range s.StringData {
				s.Data[k] = []byte(v)
			}
			s.StringData = nil
			objects = append(objects, &s)
		}
	}
}
