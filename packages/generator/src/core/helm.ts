import { execa } from 'execa';
import { KfcError } from './errors.js';
import { cachedRender, renderKey, type HelmResult } from './render-cache.js';
import { findHelm, type Tool } from './toolchain.js';

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: string[];
  includeCrds?: boolean;
  helm?: Tool;
  extraArgs?: string[];
}

/** The `helm template` arguments of `o`. */
export function templateArgs(chartDir: string, o: TemplateOptions = {}): string[] {
  const args = ['template', o.release ?? 'kubeflow', chartDir, '--namespace', o.namespace ?? 'kubeflow'];
  if (o.includeCrds) args.push('--include-crds');
  for (const f of o.valuesFiles ?? []) args.push('-f', f);
  for (const s of o.set ?? []) args.push('--set', s);
  args.push(...(o.extraArgs ?? []));
  return args;
}

/** `helm template` with its exit code and both outputs (through the run's render cache when there is one). */
export async function helmTemplateResult(chartDir: string, o: TemplateOptions = {}): Promise<HelmResult & { helm: Tool }> {
  const helm = o.helm ?? (await findHelm());
  const args = templateArgs(chartDir, o);
  const res = await cachedRender(renderKey(helm, args, chartDir, o.valuesFiles ?? []), async () => {
    const r = await execa(helm.path, args, { reject: false, maxBuffer: 1024 * 1024 * 1024 });
    return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
  });
  return { ...res, helm };
}

/** `helm template`; a failure becomes a KfcError carrying helm's message. */
export async function helmTemplate(chartDir: string, o: TemplateOptions = {}): Promise<string> {
  const res = await helmTemplateResult(chartDir, o);
  if (res.exitCode !== 0)
    throw new KfcError(`helm template ${chartDir}${o.valuesFiles?.length ? ` -f ${o.valuesFiles.join(' -f ')}` : ''} failed (${res.helm.version}):\n${res.stderr.trim()}`, 'the chart or the values are invalid; see the message above');
  return res.stdout;
}

export async function helmRun(args: string[], helm?: Tool) {
  const h = helm ?? (await findHelm());
  return execa(h.path, args, { reject: false, maxBuffer: 1024 * 1024 * 1024 });
}
