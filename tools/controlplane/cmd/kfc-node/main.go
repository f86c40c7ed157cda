// kfc-node is the one part of the local control plane that is ours: what a kubelet and a
// storage provisioner would do for the pods kwok does not simulate.
//
//   - Pods labelled kubeflow-charts.io/lifecycle (the charts' own Jobs and test pods: secrets
//     Jobs, gates, the CRD check, helm tests) run for real on this host: their containers'
//     command runs in a private mount namespace where the pod's volumes (emptyDir, ConfigMap,
//     Secret, projected, downward API) and a token of the pod's ServiceAccount, obtained
//     through the TokenRequest API, are mounted where the container expects them, with the
//     container's environment resolved as the kubelet resolves it. Their RBAC is exercised by
//     the real authorizer; what they create is really in the API server. The pod's status
//     (Running, then Succeeded or Failed with exit code and the end of the output) is written
//     back, so the Job controller, Helm and Argo CD see what a cluster would show.
//   - PersistentVolumeClaims are bound to host-path PersistentVolumes (a default StorageClass
//     whose provisioner is this program), so Helm's --wait and StatefulSets see Bound claims.
//
// Every other pod is simulated by kwok (Running/Ready with an IP).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

const (
	lifecycleLabel  = "kubeflow-charts.io/lifecycle"
	provisionerName = "kubeflow-charts.io/host-path"
)

type options struct {
	kubeconfig string
	stateDir   string
	apiHost    string
	apiPort    string
	caFile     string
	toolPath   string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childCommand {
		os.Exit(child(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "pki" {
		os.Exit(pki(os.Args[2:]))
	}
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the control plane (admin)")
	flag.StringVar(&o.stateDir, "state-dir", "", "where pod files, logs and volumes live")
	flag.StringVar(&o.apiHost, "api-host", "127.0.0.1", "KUBERNETES_SERVICE_HOST given to the pods")
	flag.StringVar(&o.apiPort, "api-port", "6443", "KUBERNETES_SERVICE_PORT given to the pods")
	flag.StringVar(&o.caFile, "ca-file", "", "CA of the API server (the pods' ca.crt)")
	flag.StringVar(&o.toolPath, "path", os.Getenv("PATH"), "PATH of the pods' commands")
	klog.InitFlags(nil)
	flag.Parse()
	if o.kubeconfig == "" || o.stateDir == "" || o.caFile == "" {
		fmt.Fprintln(os.Stderr, "kfc-node: --kubeconfig, --state-dir and --ca-file are required")
		os.Exit(2)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		klog.Fatalf("kubeconfig %s: %v", o.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		klog.Fatalf("client: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r := newRunner(client, o)
	go r.run(ctx)
	p := newProvisioner(client, o.stateDir)
	go p.run(ctx)
	<-ctx.Done()
	r.stopAll()
}
