import { KfcError } from '../core/errors.js';
import { parseYaml } from '../core/model.js';
import type { Check } from '../discover/components.js';
import type { AnalyzedComponent } from '../fold/analyze.js';

/**
 * What the umbrella's helm tests and NOTES point at, resolved in the
 * release's own objects: the component files name a workload or a Service
 * (`checks:`), the release says where it is. A check that matches nothing is
 * a build error, so an upstream rename is caught on the next pin bump.
 */
export interface ResolvedCheck {
  component: string;
  kind: Check['kind'];
  name: string;
  namespace: string;
  /** Services: the URL to GET and what the answer must show */
  url?: string;
  port?: number;
  expect?: string;
  status?: number[];
  /** Services: the pods behind it and the port they serve the check on (the test pod's NetworkPolicy) */
  selector?: Record<string, string>;
  targetPort?: number | string;
}

export function resolveChecks(components: AnalyzedComponent[], tag: string): ResolvedCheck[] {
  const out: ResolvedCheck[] = [];
  for (const c of components) {
    const config = c.plan.config;
    for (const check of config?.checks ?? []) {
      const objs = (c.configs[0]?.objects ?? []).filter((o) => o.kind === check.kind && o.name === check.name);
      if (objs.length !== 1)
        throw new KfcError(
          `${config!.file}: check ${check.kind} ${check.name} matches ${objs.length ? `${objs.length} objects` : 'no object'} of release ${tag} (chart ${c.plan.name})`,
          'upstream renamed or moved it: update "checks" in the component file',
        );
      const o = objs[0];
      const r: ResolvedCheck = { component: c.plan.name, kind: check.kind, name: o.name, namespace: o.namespace ?? 'default' };
      if (check.kind === 'Service') {
        const spec = parseYaml(o.raw)?.spec ?? {};
        const ports: Array<{ name?: string; port: number; targetPort?: number | string }> = spec.ports ?? [];
        const p = check.port ? ports.find((x) => x.name === check.port) : ports[0];
        if (!p) throw new KfcError(`${config!.file}: Service ${o.namespace}/${o.name} has no port ${check.port ?? ''} in release ${tag}`, 'update "checks" in the component file');
        r.port = p.port;
        r.targetPort = p.targetPort ?? p.port;
        if (spec.selector) r.selector = spec.selector;
        r.url = `http://${o.name}.${r.namespace}.svc.cluster.local${p.port === 80 ? '' : `:${p.port}`}${check.path}`;
        if (check.expect) r.expect = check.expect;
        r.status = check.status ?? [200];
      }
      out.push(r);
    }
  }
  return out;
}

/** The shell lines that run one check inside a test pod. */
export function checkScript(c: ResolvedCheck): string[] {
  if (c.kind !== 'Service') return [`kubectl -n ${c.namespace} rollout status ${c.kind.toLowerCase()}/${c.name} --timeout=120s`];
  if (c.expect) return [`wget -q -O - ${c.url} | grep -q '${c.expect.replace(/'/g, '')}'`, `echo "${c.url} answers with ${c.expect.replace(/"/g, '')}"`];
  return [`code=$(wget -S -O /dev/null ${c.url} 2>&1 | awk '/HTTP\\//{c=$2} END{print c}')`, `echo "${c.url} answered \${code:-nothing}"`, `case "$code" in ${c.status!.join('|')}) ;; *) exit 1 ;; esac`];
}
