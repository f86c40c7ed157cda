import { execa } from 'execa';
import { KfcError } from './errors.js';
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

/** `helm template`; a failure becomes a KfcError carrying helm's message. */
export async function helmTemplate(chartDir: string, o: TemplateOptions = {}): Promise<string> {
  const helm = o.helm ?? (await findHelm());
  const args = ['template', o.release ?? 'kubeflow', chartDir, '--namespace', o.namespace ?? 'kubeflow'];
  if (o.includeCrds) args.push('--include-crds');
  for (const f of o.valuesFiles ?? []) args.push('-f', f);
  for (const s of o.set ?? []) args.push('--set', s);
  args.push(...(o.extraArgs ?? []));
  const res = await execa(helm.path, args, { reject: false, maxBuffer: 1024 * 1024 * 1024 });
  if (res.exitCode !== 0) throw new KfcError(`helm template ${chartDir}${o.valuesFiles?.length ? ` -f ${o.valuesFiles.join(' -f ')}` : ''} failed (${helm.version}):\n${res.stderr.trim()}`, 'the chart or the values are invalid; see the message above');
  return res.stdout;
}

export async function helmRun(args: string[], helm?: Tool) {
  const h = helm ?? (await findHelm());
  return execa(h.path, args, { reject: false, maxBuffer: 1024 * 1024 * 1024 });
}
