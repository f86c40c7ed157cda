import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KfcError } from '../core/errors.js';
import { helmRun } from '../core/helm.js';
import { findHelm, type Tool } from '../core/toolchain.js';
import { pool, sha256, writeFileAtomic } from '../core/util.js';
import { packageCharts } from './repo.js';
import { readIndex } from './repo-index.js';

export interface OciOptions {
  charts: string;
  /** oci://REGISTRY/PATH: each chart goes to REGISTRY/PATH/<name>:<version> */
  ref: string;
  /** the published index.yaml, for `artifacthub.io/changes` (as `kfc repo` writes it) */
  merge?: string;
  /** talk plain HTTP to the registry (a local one) */
  plainHttp?: boolean;
  /** replace a pushed version whose content changed (normally refused) */
  force?: boolean;
  /** write `REGISTRY/PATH/<name>@sha256:...` of every chart here, one per line (for signing) */
  digests?: string;
  helm?: Tool;
}

export interface OciResult {
  pushed: string[];
  unchanged: string[];
  replaced: string[];
  /** `REGISTRY/PATH/<name>@sha256:<manifest digest>` of every chart */
  digests: string[];
}

const digestOf = (out: string) => /Digest: (sha256:[a-f0-9]{64})/.exec(out)?.[1];

/**
 * Pushes every chart to an OCI registry with `helm push` (the registry login is
 * helm's: `helm registry login`). A version already in the registry with the
 * same package is left alone; with other content it is refused before
 * anything is pushed, unless forced.
 */
export async function publishOci(o: OciOptions): Promise<OciResult> {
  const ref = o.ref.replace(/\/+$/, '');
  if (!/^oci:\/\/[^/\s]+(\/[^\s]+)?$/.test(ref)) throw new KfcError(`--oci ${o.ref} is not oci://REGISTRY[/PATH]`, 'e.g. --oci oci://ghcr.io/<owner>/charts');
  const helm = o.helm ?? (await findHelm());
  const tls = o.plainHttp ? ['--plain-http'] : [];
  const packages = packageCharts(path.resolve(o.charts), ref, o.merge ? readIndex(path.resolve(o.merge)) : undefined);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-oci-'));
  const r: OciResult = { pushed: [], unchanged: [], replaced: [], digests: [] };
  try {
    // 1. what the registry already holds (a few at a time)
    type Step = { p: (typeof packages)[number]; file: string; action: 'push' | 'keep' | 'replace' | 'conflict'; digest?: string };
    const plan: Step[] = await pool(packages, 4, async (p): Promise<Step> => {
      const file = path.join(tmp, p.file);
      writeFileSync(file, p.data);
      const pulled = path.join(tmp, 'pulled', p.name);
      mkdirSync(pulled, { recursive: true });
      const res = await helmRun(['pull', `${ref}/${p.name}`, '--version', p.version, '--destination', pulled, ...tls], helm);
      if (res.exitCode !== 0) {
        if (!/not found|manifest unknown|name unknown/i.test(res.stderr)) {
          throw new KfcError(`cannot read ${ref}/${p.name}:${p.version} from the registry (${helm.version}): ${res.stderr.trim()}`, 'check the registry address and `helm registry login`; add --plain-http for a plain HTTP registry');
        }
        return { p, file, action: 'push' };
      }
      const got = readdirSync(pulled).find((f) => f.endsWith('.tgz'));
      const same = !!got && sha256(readFileSync(path.join(pulled, got))) === sha256(p.data);
      if (same) return { p, file, action: 'keep', digest: digestOf(`${res.stdout}\n${res.stderr}`) };
      return { p, file, action: o.force ? 'replace' : 'conflict' };
    });
    const conflicts = plan.filter((s) => s.action === 'conflict').map((s) => `${s.p.name}:${s.p.version}`);
    if (conflicts.length) {
      throw new KfcError(`${ref} already holds other content for ${conflicts.join(', ')}`, 'a published chart version is immutable: raise chartRevision in upstream.lock.json and rebuild, or pass --force to replace it');
    }
    // 2. push (a few at a time), then report in chart order
    const pushedDigests = await pool(plan, 4, async (step) => {
      if (step.action === 'keep') return step.digest;
      const res = await helmRun(['push', step.file, ref, ...tls], helm);
      if (res.exitCode !== 0) throw new KfcError(`helm push ${step.p.file} ${ref} failed (${helm.version}): ${res.stderr.trim()}`, 'check `helm registry login` and the registry address');
      return digestOf(`${res.stdout}\n${res.stderr}`);
    });
    plan.forEach((step, i) => {
      const id = `${step.p.name}:${step.p.version}`;
      (step.action === 'push' ? r.pushed : step.action === 'replace' ? r.replaced : r.unchanged).push(id);
      if (!pushedDigests[i]) throw new KfcError(`helm did not report the digest of ${ref}/${id}`, 'report this with your helm version');
      r.digests.push(`${ref.replace(/^oci:\/\//, '')}/${step.p.name}@${pushedDigests[i]}`);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (o.digests) writeFileAtomic(path.resolve(o.digests), `${r.digests.join('\n')}\n`);
  return r;
}
