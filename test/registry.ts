import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureGoTool } from '../packages/generator/src/core/go-tools.js';

/**
 * An OCI registry on 127.0.0.1: the CNCF distribution registry, built from the Go module proxy
 * (pinned in tools.lock.json, `npm run setup` builds it), storage in a temporary directory, a
 * free port chosen by the registry itself (read back from its log).
 */
let bin: string | undefined;
let why = '';
try {
  bin = process.env.KFC_REGISTRY_BIN ?? ensureGoTool('registry');
} catch (e) {
  why = (e as Error).message.split('\n')[0];
}
export const REGISTRY_BIN = bin ?? 'registry';
export const REGISTRY_UNAVAILABLE = why;

export function registryAvailable(): boolean {
  return !!bin;
}

export async function startRegistry(): Promise<{ host: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-registry-'));
  const config = path.join(dir, 'config.yml');
  writeFileSync(config, ['version: 0.1', 'log:', '  level: info', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`, 'http:', '  addr: 127.0.0.1:0', ''].join('\n'));
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${REGISTRY_BIN} did not start within 30s:\n${log}`)), 30_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${REGISTRY_BIN} exited with ${code}:\n${log}`));
    });
  });
  return {
    host,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
