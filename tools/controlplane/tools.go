//go:build tools

// The upstream commands this module builds (go build k8s.io/kubernetes/cmd/...): importing
// their packages here keeps them, and their exact versions, in go.mod and go.sum.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)
