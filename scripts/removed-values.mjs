#!/usr/bin/env node
// Writes components/removed-values.json: the values keys the previous release's charts have and the
// pinned release's charts lack, and the charts that were renamed (a new chart renders exactly their
// objects now). The build accepts them for one release with a deprecation notice (a renamed chart's
// `enabled` still switches it; its other keys fail the render naming their new place).
//   npm run build   # the pinned release into charts/
//   node scripts/removed-values.mjs --previous <charts dir of the previous release> [--charts charts] [--out FILE]
// (the test suite builds every mirrored release; .cache/kfc/test-charts/<tag> holds the previous one)
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartKeysOf, movedCharts, removedValues, REMOVED_VALUES_FILE } from '../packages/generator/dist/emit/deprecated.js';

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
  const beforeDir = path.resolve(previous);
  const afterDir = path.resolve(arg('charts', path.join(root, 'charts')));
  const before = readCharts(beforeDir);
  const after = readCharts(afterDir);
  const moved = movedCharts(await chartKeysOf(beforeDir), await chartKeysOf(afterDir), { renamedOnly: true });
  const r = removedValues(before.tag, after.tag, before.schemas, after.schemas, moved);
  const file = path.resolve(arg('out', path.join(root, 'components', REMOVED_VALUES_FILE)));
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  console.log(
    `wrote ${path.relative(root, file)}: ${Object.values(r.charts).flat().length} keys removed from ${r.from} to ${r.to}${
      r.moved
        ? `, charts renamed: ${Object.entries(r.moved)
            .map(([c, m]) => `${c} -> ${m.renamed ?? m.into.join(', ')}`)
            .join('; ')}`
        : ''
    }`,
  );
}
