import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KfcError } from '../packages/generator/src/core/errors.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { loadComponentConfigs } from '../packages/generator/src/discover/components.js';
import { contractSchemaFile } from '../packages/generator/src/discover/contract-schema.js';
import { loadFeatures, loadSharedFeatures } from '../packages/generator/src/features/contract.js';
import { TIERS } from '../packages/generator/src/order/tiers.js';

/** The error loading a components directory made of `files` gives. */
function loadError(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-contract-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  try {
    for (const c of loadComponentConfigs(dir)) loadFeatures(c, dir);
    loadSharedFeatures(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(KfcError);
    return (e as KfcError).message.replaceAll(`${dir}/`, '');
  }
  throw new Error('loaded without an error');
}

const OK = 'description: x\npaths: ["*/katib/**"]\n';

describe('the component contract has a JSON Schema (components/*.schema.json)', () => {
  it("every component and feature file of the repository validates, and the schema's tiers are the generator's", () => {
    const configs = loadComponentConfigs();
    expect(configs.length).toBeGreaterThan(20);
    expect(configs.flatMap((c) => loadFeatures(c)).length + loadSharedFeatures().length).toBeGreaterThan(10);
    const schema = JSON.parse(readFileSync(contractSchemaFile('component'), 'utf8'));
    expect(schema.properties.tier.enum).toEqual(TIERS.map((t) => t.name));
    const vscode = JSON.parse(readFileSync(path.join(repoRoot(), '.vscode', 'settings.json'), 'utf8'));
    expect(Object.keys(vscode['yaml.schemas'])).toEqual(['./components/component.schema.json', './components/feature.schema.json']);
  });

  it('a contract file the schema rejects is an error naming the file and the path in it', () => {
    expect(loadError({ 'katib.yaml': `${OK}variant: {}\n` })).toBe('katib.yaml: unknown key "variant" (known: description, paths, variants, keywords, tier, install, options, checks, features, variantOverrides, knownBroken)');
    expect(loadError({ 'katib.yaml': `${OK}checks: [{kind: Pod, name: x}]\n` })).toBe('katib.yaml: checks[0].kind must be one of Deployment, StatefulSet, Service');
    expect(loadError({ 'katib.yaml': `${OK}checks: [{kind: Service, name: x}]\n` })).toBe('katib.yaml: checks[0]: "path" is required');
    expect(loadError({ 'katib.yaml': `${OK}tier: late\n` })).toMatch(/^katib\.yaml: tier must be one of crds, namespaces, /);
    expect(loadError({ 'katib.yaml': `${OK}variants: {ui: overlays}\n` })).toMatch(/^katib\.yaml: variants\.ui must match pattern "\/" \(a path glob .* never a bare directory name/);
    expect(loadError({ 'katib.yaml': 'paths: ["*/katib/**"]\n' })).toBe('katib.yaml: "description" is required');
    expect(loadError({ 'katib.yaml': OK, 'katib/features/f.yaml': 'name: f\ndescription: d\nset: [{select: {kind: Deployment, name: x, index: 0}, patch: {}}]\n' })).toBe(
      'katib/features/f.yaml (feature f): set[0].select: unknown key "index" (known: kind, name, namespace, group, container, when, has)',
    );
    expect(loadError({ 'katib.yaml': OK, 'katib/features/f.yaml': 'name: f\ndescription: d\ngenerate: [{secret: {namespace: a, name: b}, keys: {k: {random: 8, value: x}}}]\n' })).toBe(
      "katib/features/f.yaml (feature f): generate[0].keys.k must NOT have more than 1 properties (exactly one of random (length), keep (upstream's value), value, copy (ns/name/key), bcrypt (key or ns/name/key))",
    );
    expect(loadError({ 'katib.yaml': OK, '_shared/features/f.yaml': 'name: Bad\ndescription: d\n' })).toMatch(/^_shared\/features\/f\.yaml \(feature Bad\): name must match pattern/);
  });
});
