import { describe, expect, it } from 'vitest';
import { fold } from '../packages/generator/src/fold/fold.js';
import { objectKey, splitObjects, type KObject } from '../packages/generator/src/core/model.js';
import { formatImage, parseImage } from '../packages/generator/src/core/image.js';
import { analyze } from '../packages/generator/src/fold/analyze.js';
import { silentLogger } from '../packages/generator/src/core/log.js';
import { lockFor, PINNED } from './releases.js';
import { parseYaml } from '../packages/generator/src/core/model.js';

const obj = (name: string, body: string): KObject => {
  const raw = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ns\ndata:\n  x: "${body}"\n`;
  const o = { apiVersion: 'v1', kind: 'ConfigMap', name, namespace: 'ns', raw, key: '' };
  o.key = objectKey(o);
  return o;
};

describe('fold', () => {
  it('identical everywhere is static; differing or partial objects get one case per distinct content', () => {
    const f = fold(
      ['a', 'b', 'c'],
      [
        { variant: 'a', objects: [obj('same', '1'), obj('diff', '1'), obj('some', '1')] },
        { variant: 'b', objects: [obj('same', '1'), obj('diff', '2'), obj('some', '1')] },
        { variant: 'c', objects: [obj('same', '1'), obj('diff', '1')] },
      ],
    );
    const by = Object.fromEntries(f.map((x) => [x.sample.name, x]));
    expect(by.same.isStatic).toBe(true);
    expect(by.diff.isStatic).toBe(false);
    expect(by.diff.cases.map((c) => c.variants)).toEqual([['a', 'c'], ['b']]);
    expect(by.some.cases.map((c) => c.variants)).toEqual([['a', 'b']]);
  });
});

describe('images', () => {
  it.each([
    ['ghcr.io/kubeflow/katib/katib-controller:v0.19.0', { registry: 'ghcr.io', repository: 'kubeflow/katib/katib-controller', tag: 'v0.19.0', digest: '' }],
    ['mysql:8.0.29', { registry: '', repository: 'mysql', tag: '8.0.29', digest: '' }],
    ['localhost:5000/a/b', { registry: 'localhost:5000', repository: 'a/b', tag: '', digest: '' }],
    [`quay.io/x/y:1@sha256:${'a'.repeat(64)}`, { registry: 'quay.io', repository: 'x/y', tag: '1', digest: `sha256:${'a'.repeat(64)}` }],
  ])('%s splits and joins back', (ref, parts) => {
    expect(parseImage(ref)).toEqual(parts);
    expect(formatImage(parseImage(ref))).toBe(ref);
  });

  it('every upstream container image survives the split', async () => {
    const a = await analyze({ lockFile: lockFor(PINNED), logger: silentLogger });
    const images = new Set<string>();
    for (const c of a.components)
      for (const o of c.configs[0].objects) if (['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'].includes(o.kind)) for (const m of o.raw.matchAll(/^\s+(?:- )?image: (.+)$/gm)) images.add(String(parseYaml(m[1])));
    expect(images.size).toBeGreaterThan(0);
    for (const i of images) expect(formatImage(parseImage(i))).toBe(i);
  });
});

describe('model', () => {
  it('reads identity without a full parse, quoted names included', () => {
    const [o] = splitObjects('apiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    name: not-this\n  name: "8080"\n  namespace: kubeflow\n', 'test');
    expect(o.key).toBe('v1/Service/kubeflow/8080');
  });
});
