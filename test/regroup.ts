import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyOf, editExample } from './fixtures.js';

/**
 * Mutated copies of a mirrored release, regrouped the way upstream's master
 * did after 26.03 (made at test time, never committed).
 */

const KUSTOMIZATIONS = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

function kustomizationFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && e.name !== '.git') out.push(...kustomizationFiles(root, p));
    else if (e.isFile() && KUSTOMIZATIONS.has(e.name)) out.push(p);
  }
  return out;
}

/**
 * Moves a directory of a release tree, rewriting every relative reference
 * (`../...`) of every kustomization (the example's lines and commented-out
 * lines included) that crosses the moved directory's boundary.
 */
export function moveDir(root: string, from: string, to: string): void {
  const inside = (p: string) => p === from || p.startsWith(`${from}/`);
  const moved = (p: string) => (inside(p) ? `${to}${p.slice(from.length)}` : p);
  const files = kustomizationFiles(root).map((f) => ({ f, text: readFileSync(path.join(root, f), 'utf8') }));
  mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
  renameSync(path.join(root, from), path.join(root, to));
  for (const { f, text } of files) {
    const oldDir = path.posix.dirname(f);
    const newDir = moved(oldDir);
    const out = text.replace(/\.\.\/[^\s#"',\]]*/g, (ref) => {
      const target = path.posix.normalize(path.posix.join(oldDir, ref));
      if (inside(oldDir) === inside(target)) return ref;
      const rel = path.posix.relative(newDir, moved(target));
      return ref.endsWith('/') ? `${rel}/` : rel;
    });
    if (out !== text) writeFileSync(path.join(root, moved(f)), out);
  }
}

function write(root: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

/** The aggregate-level patch of the regrouped dashboard: a setting of the central dashboard's ConfigMap. */
export const DASHBOARD_PATCH = { name: 'centraldashboard-config', namespace: 'kubeflow', key: 'settings', value: '{\n  "DASHBOARD_FORCE_IFRAME": false\n}' };

const DASHBOARD_PARTS = ['../../upstream/centraldashboard/overlays/oauth2-proxy', '../../upstream/poddefaults-webhooks/overlays/cert-manager', '../../upstream/profile-controller/overlays/kubeflow-pss'];
const NOTEBOOK_PARTS = [
  'jupyter-web-app/overlays/istio',
  'notebook-controller/overlays/kubeflow',
  'pvcviewer-controller/base',
  'volumes-web-app/overlays/istio',
  'tensorboard-controller/overlays/kubeflow',
  'tensorboards-web-app/overlays/istio',
].map((p) => `../../upstream/${p}`);

/**
 * 26.03 regrouped like upstream's master (mid-2026): the dashboard, the
 * PodDefaults webhook and the profile controller under
 * `applications/dashboard` with one aggregate overlay (patching the dashboard's
 * ConfigMap on top); the notebook apps and controllers under
 * `applications/notebooks-v1` with one aggregate overlay; Model Registry
 * renamed `applications/hub` and enabled in the example through
 * `overlays/model-registry`; a new commented-out `applications/workspaces`
 * line and a commented-out kustomize Component patching the dashboard.
 */
export function regrouped2603(more: (dir: string) => void = () => {}): string {
  return copyOf('26.03', (d) => {
    const a = 'applications';
    moveDir(d, `${a}/centraldashboard`, `${a}/dashboard/upstream/centraldashboard`);
    moveDir(d, `${a}/admission-webhook/upstream`, `${a}/dashboard/upstream/poddefaults-webhooks`);
    moveDir(d, `${a}/profiles/upstream`, `${a}/dashboard/upstream/profile-controller`);
    moveDir(d, `${a}/profiles/pss`, `${a}/dashboard/upstream/profile-controller/overlays/kubeflow-pss`);
    const nb = `${a}/notebooks-v1/upstream`;
    moveDir(d, `${a}/jupyter/jupyter-web-app/upstream`, `${nb}/jupyter-web-app`);
    moveDir(d, `${a}/jupyter/notebook-controller/upstream`, `${nb}/notebook-controller`);
    moveDir(d, `${a}/pvcviewer-controller/upstream`, `${nb}/pvcviewer-controller`);
    moveDir(d, `${a}/volumes-web-app/upstream`, `${nb}/volumes-web-app`);
    moveDir(d, `${a}/tensorboard/tensorboard-controller/upstream`, `${nb}/tensorboard-controller`);
    moveDir(d, `${a}/tensorboard/tensorboards-web-app/upstream`, `${nb}/tensorboards-web-app`);
    moveDir(d, `${a}/model-registry`, `${a}/hub`);
    for (const gone of ['admission-webhook', 'profiles', 'jupyter', 'pvcviewer-controller', 'volumes-web-app', 'tensorboard']) rmSync(path.join(d, a, gone), { recursive: true, force: true });
    const kz = (resources: string[], rest = '') => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nresources:\n${resources.map((r) => `- ${r}`).join('\n')}\n${rest}`;
    const p = DASHBOARD_PATCH;
    write(d, `${a}/dashboard/overlays/istio/kustomization.yaml`, kz(DASHBOARD_PARTS, '\npatches:\n- path: patches/configmap.yaml\n'));
    write(d, `${a}/dashboard/overlays/istio/patches/configmap.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${p.name}\n  namespace: ${p.namespace}\ndata:\n  ${p.key}: |-\n${p.value.replace(/^/gm, '    ')}\n`);
    write(d, `${a}/notebooks-v1/overlays/istio/kustomization.yaml`, kz(NOTEBOOK_PARTS));
    write(d, `${a}/hub/overlays/model-registry/kustomization.yaml`, kz(['../../upstream/overlays/db', '../../upstream/options/istio', '../../upstream/options/ui/overlays/istio']));
    write(d, `${a}/workspaces/overlays/istio/kustomization.yaml`, kz(['configmap.yaml']));
    write(d, `${a}/workspaces/overlays/istio/configmap.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: workspaces-config\n  namespace: kubeflow\ndata:\n  enabled: "true"\n');
    write(
      d,
      `${a}/workspaces/components/centraldashboard/kustomization.yaml`,
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: centraldashboard-config\n      namespace: kubeflow\n    data:\n      workspaces: enabled\n',
    );
    editExample(d, (t) => {
      const lines = t.split('\n');
      const drop = (re: RegExp) => {
        const i = lines.findIndex((l) => re.test(l));
        if (i < 0) throw new Error(`regrouped2603: no example line matches ${re}`);
        lines.splice(i, 1);
        return i;
      };
      const at = drop(/^- \.\.\/applications\/dashboard\/upstream\/centraldashboard\//);
      for (const re of [
        /poddefaults-webhooks/,
        /notebooks-v1\/upstream\/jupyter-web-app/,
        /notebooks-v1\/upstream\/notebook-controller/,
        /profile-controller/,
        /pvcviewer-controller/,
        /volumes-web-app/,
        /tensorboard-controller/,
        /tensorboards-web-app/,
      ])
        drop(new RegExp(`^- .*${re.source}`));
      lines.splice(at, 0, '- ../applications/dashboard/overlays/istio', '# Notebooks v1', '- ../applications/notebooks-v1/overlays/istio');
      const spark = lines.findIndex((l) => l.includes('spark-operator/overlays/kubeflow'));
      lines.splice(spark + 1, 0, '# Hub: Model Registry', '- ../applications/hub/overlays/model-registry');
      lines.push('# Workspaces (Notebooks v2) is pre-GA', '# - ../applications/workspaces/overlays/istio', '# components:', '# - ../applications/workspaces/components/centraldashboard', '');
      return lines.join('\n');
    });
    more(d);
  });
}

/** Adds resources (file name -> text) to a kustomization directory of a release tree. */
export function addResources(root: string, dir: string, files: Record<string, string>): void {
  const file = path.join(root, dir, 'kustomization.yaml');
  const text = readFileSync(file, 'utf8');
  for (const [f, t] of Object.entries(files)) writeFileSync(path.join(root, dir, f), t);
  writeFileSync(
    file,
    text.replace(
      /\nresources:\n/,
      `\nresources:\n${Object.keys(files)
        .map((f) => `- ${f}\n`)
        .join('')}`,
    ),
  );
}
