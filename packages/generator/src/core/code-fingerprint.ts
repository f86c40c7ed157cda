import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from './util.js';

/**
 * A fingerprint of the generator's source (TypeScript and the files charts embed), so that a
 * build knows when the code that made charts/ changed. Compiled code never reads src/: the
 * build writes the fingerprint of the sources it compiled into dist/ (scripts/dist-assets.mjs),
 * and code running from src/ (the tests) computes it from the sources, the same way.
 */
export const FINGERPRINT_FILE = 'code-fingerprint.txt';

/** The directory the generator runs from: dist/ when compiled, src/ under vitest. */
const codeDir = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The fingerprint of a source tree (relative paths and contents, in order). */
export function sourceFingerprint(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  return sha256(files.map((f) => `${path.relative(dir, f)}:${sha256(readFileSync(f))}`).join('\n'));
}

/** The fingerprint of the sources of the running generator. */
export function codeFingerprint(): string {
  const dir = codeDir();
  const stamped = path.join(dir, FINGERPRINT_FILE);
  return existsSync(stamped) ? readFileSync(stamped, 'utf8').trim() : sourceFingerprint(dir);
}
