package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
)

// runner starts the host process of every lifecycle pod once it is scheduled, and finishes
// the deletion of those pods the way a kubelet does (a graceful delete waits for it).
type runner struct {
	client kubernetes.Interface
	o      options
	mu     sync.Mutex
	pods   map[types.UID]*podRun
}

type podRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func newRunner(client kubernetes.Interface, o options) *runner {
	return &runner{client: client, o: o, pods: map[types.UID]*podRun{}}
}

func (r *runner) run(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = lifecycleLabel
	}))
	inf := factory.Core().V1().Pods().Informer()
	handle := func(obj interface{}) {
		if pod, ok := obj.(*corev1.Pod); ok {
			r.observe(ctx, pod)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj interface{}) { handle(obj) },
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
}

// observe decides what a pod needs: a start, a kill, or the final delete.
func (r *runner) observe(ctx context.Context, pod *corev1.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	r.mu.Lock()
	run, running := r.pods[pod.UID]
	r.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		go r.finishDeletion(ctx, pod, run)
		return
	}
	if running {
		return
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return
	case corev1.PodRunning:
		// started by an earlier kfc-node that is gone: what it ran is lost
		r.finish(ctx, pod, []containerResult{{name: "*", exitCode: 137, reason: "Error", message: "kfc-node restarted while the pod ran"}})
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	run = &podRun{cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.pods[pod.UID] = run
	r.mu.Unlock()
	go func() {
		defer close(run.done)
		r.runPod(runCtx, pod.DeepCopy())
	}()
}

func (r *runner) finishDeletion(ctx context.Context, pod *corev1.Pod, run *podRun) {
	if run != nil {
		run.cancel() // SIGTERM, then SIGKILL after the grace period (see exec)
		<-run.done
	}
	zero := int64(0)
	err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		klog.Errorf("deleting pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	r.mu.Lock()
	delete(r.pods, pod.UID)
	r.mu.Unlock()
}

func (r *runner) stopAll() {
	r.mu.Lock()
	runs := make([]*podRun, 0, len(r.pods))
	for _, run := range r.pods {
		runs = append(runs, run)
	}
	r.mu.Unlock()
	for _, run := range runs {
		run.cancel()
		<-run.done
	}
}

type containerResult struct {
	name     string
	exitCode int
	reason   string
	message  string
	started  time.Time
	finished time.Time
}

// runPod runs the init containers in order, then the containers together, as a kubelet does
// for restartPolicy Never/OnFailure pods (OnFailure restarts a failed container in place).
func (r *runner) runPod(ctx context.Context, pod *corev1.Pod) {
	dir := filepath.Join(r.o.stateDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.finish(ctx, pod, []containerResult{{name: "*", exitCode: 1, reason: "CreateContainerConfigError", message: err.Error()}})
		return
	}
	klog.Infof("pod %s/%s: running on the host (%s)", pod.Namespace, pod.Name, dir)
	mounts, err := r.prepareVolumes(ctx, pod, dir)
	if err != nil {
		r.finish(ctx, pod, []containerResult{{name: "*", exitCode: 1, reason: "CreateContainerConfigError", message: err.Error()}})
		return
	}
	r.setRunning(ctx, pod)
	var results []containerResult
	for _, c := range pod.Spec.InitContainers {
		res := r.runWithRestarts(ctx, pod, &c, mounts, dir)
		results = append(results, res)
		if res.exitCode != 0 {
			r.finish(ctx, pod, results)
			return
		}
	}
	out := make([]containerResult, len(pod.Spec.Containers))
	var wg sync.WaitGroup
	for i := range pod.Spec.Containers {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out[i] = r.runWithRestarts(ctx, pod, &pod.Spec.Containers[i], mounts, dir)
		}(i)
	}
	wg.Wait()
	r.finish(ctx, pod, append(results, out...))
}

func (r *runner) runWithRestarts(ctx context.Context, pod *corev1.Pod, c *corev1.Container, mounts map[string]string, dir string) containerResult {
	for attempt := 0; ; attempt++ {
		res := r.runContainer(ctx, pod, c, mounts, dir)
		if res.exitCode == 0 || pod.Spec.RestartPolicy != corev1.RestartPolicyOnFailure || ctx.Err() != nil || attempt >= 5 {
			return res
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(time.Duration(1<<attempt) * time.Second):
		}
	}
}

func (r *runner) setRunning(ctx context.Context, pod *corev1.Pod) {
	now := metav1.Now()
	r.updateStatus(ctx, pod, func(s *corev1.PodStatus) {
		s.Phase = corev1.PodRunning
		s.StartTime = &now
		s.HostIP = "127.0.0.1"
		s.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
		setCondition(s, corev1.PodInitialized, corev1.ConditionTrue, "")
		setCondition(s, corev1.ContainersReady, corev1.ConditionTrue, "")
		setCondition(s, corev1.PodReady, corev1.ConditionTrue, "")
		s.ContainerStatuses = nil
		for _, c := range pod.Spec.Containers {
			s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{
				Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true, Started: ptr(true),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
			})
		}
	})
}

// finish writes the pod's final phase with each container's exit code and the end of its output.
func (r *runner) finish(ctx context.Context, pod *corev1.Pod, results []containerResult) {
	failed := false
	byName := map[string]containerResult{}
	for _, res := range results {
		byName[res.name] = res
		if res.exitCode != 0 {
			failed = true
		}
	}
	terminated := func(c corev1.Container) corev1.ContainerStatus {
		res, ok := byName[c.Name]
		if !ok {
			res = byName["*"]
		}
		if res.name == "" {
			res = containerResult{exitCode: 1, reason: "ContainerCannotRun", message: "not started: an earlier container failed"}
		}
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: int32(res.exitCode), Reason: res.reason, Message: res.message,
			StartedAt: metav1.NewTime(res.started), FinishedAt: metav1.NewTime(res.finished),
		}}}
	}
	r.updateStatus(ctx, pod, func(s *corev1.PodStatus) {
		s.Phase = corev1.PodSucceeded
		reason := "PodCompleted"
		if failed {
			s.Phase = corev1.PodFailed
			reason = "PodFailed"
		}
		setCondition(s, corev1.ContainersReady, corev1.ConditionFalse, reason)
		setCondition(s, corev1.PodReady, corev1.ConditionFalse, reason)
		s.InitContainerStatuses, s.ContainerStatuses = nil, nil
		for _, c := range pod.Spec.InitContainers {
			if _, ok := byName[c.Name]; ok {
				s.InitContainerStatuses = append(s.InitContainerStatuses, terminated(c))
			}
		}
		for _, c := range pod.Spec.Containers {
			s.ContainerStatuses = append(s.ContainerStatuses, terminated(c))
		}
	})
	klog.Infof("pod %s/%s: %s", pod.Namespace, pod.Name, map[bool]string{true: "failed", false: "succeeded"}[failed])
}

func (r *runner) updateStatus(ctx context.Context, pod *corev1.Pod, mutate func(*corev1.PodStatus)) {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := r.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != pod.UID {
			return nil
		}
		mutate(&cur.Status)
		_, err = r.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		klog.Errorf("pod %s/%s status: %v", pod.Namespace, pod.Name, err)
	}
}

func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason string) {
	now := metav1.Now()
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			if s.Conditions[i].Status != status {
				s.Conditions[i].LastTransitionTime = now
			}
			s.Conditions[i].Status, s.Conditions[i].Reason = status, reason
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: now})
}

func ptr[T any](v T) *T { return &v }
