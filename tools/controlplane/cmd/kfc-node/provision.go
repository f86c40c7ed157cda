package main

import (
	"context"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// provisioner gives every unbound PersistentVolumeClaim a host-path PersistentVolume of its
// size, access modes and class (the persistent volume controller then binds them), and
// deletes a released volume it made, as a dynamic provisioner does.
type provisioner struct {
	client kubernetes.Interface
	dir    string
}

func newProvisioner(client kubernetes.Interface, stateDir string) *provisioner {
	return &provisioner{client: client, dir: filepath.Join(stateDir, "volumes")}
}

func (p *provisioner) run(ctx context.Context) {
	factory := informers.NewSharedInformerFactory(p.client, 0)
	pvcs := factory.Core().V1().PersistentVolumeClaims().Informer()
	pvs := factory.Core().V1().PersistentVolumes().Informer()
	_, _ = pvcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { p.claim(ctx, obj) },
		UpdateFunc: func(_, obj interface{}) { p.claim(ctx, obj) },
	})
	_, _ = pvs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { p.released(ctx, obj) },
		UpdateFunc: func(_, obj interface{}) { p.released(ctx, obj) },
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
}

func (p *provisioner) claim(ctx context.Context, obj interface{}) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Spec.VolumeName != "" || pvc.DeletionTimestamp != nil || pvc.Status.Phase == corev1.ClaimBound {
		return
	}
	name := "pvc-" + string(pvc.UID)
	path := filepath.Join(p.dir, name)
	if err := os.MkdirAll(path, 0o777); err != nil {
		klog.Errorf("volume for %s/%s: %v", pvc.Namespace, pvc.Name, err)
		return
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	hostPath := corev1.HostPathDirectoryOrCreate
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": provisionerName}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			StorageClassName:              class,
			VolumeMode:                    pvc.Spec.VolumeMode,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &hostPath}},
		},
	}
	if _, err := p.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		klog.Errorf("volume for %s/%s: %v", pvc.Namespace, pvc.Name, err)
		return
	} else if err == nil {
		klog.Infof("provisioned %s for %s/%s", name, pvc.Namespace, pvc.Name)
	}
}

func (p *provisioner) released(ctx context.Context, obj interface{}) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok || pv.Annotations["pv.kubernetes.io/provisioned-by"] != provisionerName || pv.Status.Phase != corev1.VolumeReleased {
		return
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return
	}
	if err := p.client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		klog.Errorf("deleting released %s: %v", pv.Name, err)
		return
	}
	_ = os.RemoveAll(filepath.Join(p.dir, pv.Name))
}
