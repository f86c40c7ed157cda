import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from '../packages/generator/src/core/model.js';

/** The charts in `dir`; none is an error (a loop over them would check nothing). */
export function chartNames(dir: string): string[] {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  if (!names.length) throw new Error(`no charts in ${dir}: run \`npm run build\``);
  return names;
}

/** A chart's ci values files; none is an error (every generated chart has one at least). */
export function ciFiles(chartDir: string): string[] {
  const files = readdirSync(path.join(chartDir, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => path.join(chartDir, 'ci', f));
  if (!files.length) throw new Error(`no ci values files in ${chartDir}/ci`);
  return files;
}

export function readYaml(file: string): any {
  return parseYaml(readFileSync(file, 'utf8'));
}

/** The first workload values key of a chart (a key holding `containers`), with one container key. */
export function firstWorkload(values: any): { workload: string; container: string; hasReplicas: boolean } | undefined {
  for (const [k, v] of Object.entries<any>(values)) {
    if (v && typeof v === 'object' && v.containers) {
      return { workload: k, container: Object.keys(v.containers)[0], hasReplicas: 'replicas' in v };
    }
  }
  return undefined;
}

/** The three mistakes of the issue, as separate values files for the umbrella (paths derived from the generated katib chart). */
export function brokenValues(dir: string): { files: Record<string, unknown>; paths: { workload: string; replicas: string; cpu: string } } {
  const w = firstWorkload(readYaml(path.join(dir, 'katib', 'values.yaml')))!;
  return {
    files: {
      'misspelt.yaml': { pipelnes: { enabled: true } },
      'wrong-type.yaml': { katib: { [w.workload]: { replicas: 'two' } } },
      'bad-quantity.yaml': { katib: { [w.workload]: { containers: { [w.container]: { resources: { limits: { cpu: '5 cores' } } } } } } },
    },
    paths: { workload: w.workload, replicas: `katib.${w.workload}.replicas`, cpu: `katib.${w.workload}.containers.${w.container}.resources.limits.cpu` },
  };
}
