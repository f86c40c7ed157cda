#!/usr/bin/env node
// Writes components/removed-values.json: the values keys the previous release's charts have and the
// pinned release's charts lack. The build accepts them for one release with a deprecation notice.
//   npm run build   # the pinned release into charts/
//   node scripts/removed-values.mjs --previous <charts dir of the previous release> [--charts charts]
// (the test suite builds every mirrored release; .cache/kfc/test-charts/<tag> holds the previous one)
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removedValues, REMOVED_VALUES_FILE } from '../packages/generator/dist/emit/deprecated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

/** chart name -> values schema, and the release tag (appVersion) of a charts directory. */
export function readCharts(dir) {
  const schemas = {};
  let tag;
  for (const c of readdirSync(dir).sort()) {
    const f = path.join(dir, c, 'values.schema.json');
    if (!existsSync(f)) continue;
    schemas[c] = JSON.parse(readFileSync(f, 'utf8'));
    tag ??= /^appVersion: "?([^"\s]+)"?$/m.exec(readFileSync(path.join(dir, c, 'Chart.yaml'), 'utf8'))?.[1];
  }
  if (!tag) throw new Error(`${dir} holds no charts`);
  return { tag, schemas };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const previous = arg('previous');
  if (!previous) throw new Error('pass --previous <charts directory of the previous release>');
  const before = readCharts(path.resolve(previous));
  const after = readCharts(path.resolve(arg('charts', path.join(root, 'charts'))));
  const r = removedValues(before.tag, after.tag, before.schemas, after.schemas);
  const file = path.join(root, 'components', REMOVED_VALUES_FILE);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  console.log(`wrote ${path.relative(root, file)}: ${Object.values(r.charts).flat().length} keys removed from ${r.from} to ${r.to}`);
}
