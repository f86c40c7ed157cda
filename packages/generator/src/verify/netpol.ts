import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { KfcError } from '../core/errors.js';
import { ensureGoTool } from '../core/go-tools.js';

/**
 * Kubernetes NetworkPolicy semantics, by np-guard's netpol-analyzer (pinned in tools.lock.json):
 * every allowed connection between the workloads of a set of manifests.
 */

/** TCP port ranges, inclusive. */
export type Ports = Array<[number, number]>;
export const ALL_PORTS: Ports = [[1, 65535]];

/** One allowed connection: `ns/name[Kind]` (or an IP range for sources outside the pod network). */
export interface Connection {
  src: string;
  dst: string;
  ports: Ports;
}

/** Parses the analyzer's connection text ("All Connections", "TCP 80,8000-8080;UDP 53"): the TCP part. */
export function parsePorts(conn: string): Ports {
  if (conn === 'All Connections') return ALL_PORTS;
  const out: Ports = [];
  for (const part of conn.split(';')) {
    const m = /^\s*TCP\s+(.*)$/.exec(part);
    if (!m) continue;
    for (const r of m[1].split(',')) {
      const [lo, hi] = r.trim().split('-').map(Number);
      if (Number.isInteger(lo)) out.push([lo, Number.isInteger(hi) ? hi : lo]);
    }
  }
  return out;
}

export function portsInclude(ports: Ports, port: number): boolean {
  return ports.some(([lo, hi]) => port >= lo && port <= hi);
}

/** `a` minus `b`. */
export function subtractPorts(a: Ports, b: Ports): Ports {
  let out = a.map(([lo, hi]) => [lo, hi] as [number, number]);
  for (const [blo, bhi] of b) {
    out = out.flatMap(([lo, hi]): Ports => {
      if (bhi < lo || blo > hi) return [[lo, hi]];
      const parts: Ports = [];
      if (blo > lo) parts.push([lo, blo - 1]);
      if (bhi < hi) parts.push([bhi + 1, hi]);
      return parts;
    });
  }
  return out;
}

export function formatPorts(p: Ports): string {
  if (p.length === 1 && p[0][0] === 1 && p[0][1] === 65535) return 'all ports';
  return p.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

/** Every allowed connection between the workloads and pods of `docs` (parsed manifests). */
export async function allowedConnections(docs: unknown[], source: string): Promise<Connection[]> {
  const bin = ensureGoTool('netpol-analyzer');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-netpol-'));
  try {
    // YAML 1.1 as Kubernetes clients read it: strings such as "yes" stay strings
    writeFileSync(path.join(dir, 'objects.yaml'), docs.map((d) => YAML.stringify(d, { version: '1.1' })).join('---\n'));
    const r = await execa(bin, ['list', '--dirpath', dir, '-o', 'json', '-q'], { reject: false });
    if (r.exitCode !== 0) throw new KfcError(`netpol-analyzer failed on ${source}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, 'run it by hand on the render to see why');
    const text = r.stdout.trim();
    const list = (text ? JSON.parse(text) : []) as Array<{ src: string; dst: string; conn: string }>;
    return list.map((c) => ({ src: c.src, dst: c.dst, ports: parsePorts(c.conn) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
