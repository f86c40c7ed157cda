#!/usr/bin/env node
// After tsc: copies the files of src/ that are not TypeScript (the scripts charts embed, e.g.
// features/secrets-job.py) into dist/, and stamps dist/ with the fingerprint of the sources it
// was compiled from, so that nothing in dist/ reads src/ at run time.
import { cpSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(pkg, 'src');
const dist = path.join(pkg, 'dist');
const walk = (d) => readdirSync(d).flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : [path.join(d, f)]));
for (const f of walk(src).filter((f) => !f.endsWith('.ts'))) cpSync(f, path.join(dist, path.relative(src, f)));
const { sourceFingerprint, FINGERPRINT_FILE } = await import(path.join(dist, 'core', 'code-fingerprint.js'));
writeFileSync(path.join(dist, FINGERPRINT_FILE), `${sourceFingerprint(src)}\n`);
