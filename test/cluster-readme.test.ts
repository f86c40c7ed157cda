import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { kubectlBin } from '../packages/cluster/src/index.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { describeCluster } from './cluster.js';
import { INSTALL, RELEASE, UMBRELLA_DIR } from './cluster-lifecycle.js';

/** The README's "choose a value: create the Secret first" commands, as written. */
function recipe(): string[] {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const block = /create the namespace the way Helm\s+adopts it[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md: the "create the Secret first" recipe is gone');
  return block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
}

describeCluster("the README's recipe for choosing a credential works as written", (cluster) => {
  it('its commands, then helm install: the chart adopts the namespace and Dex gets the hash of the chosen password', async () => {
    const c = cluster();
    const lines = recipe();
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) {
      // kubectl is the pinned one (first on PATH), KUBECONFIG the control plane's
      await execa('bash', ['-ec', line], { env: { ...c.env, PATH: `${path.dirname(kubectlBin())}:${process.env.PATH}` } });
    }
    await c.helm(4, ['install', RELEASE, UMBRELLA_DIR, ...INSTALL]);
    const password = /--from-literal=password='([^']+)'/.exec(lines.join('\n'))?.[1];
    expect(password).toBeTruthy();
    const hash = Buffer.from(String((await c.kubectl(['-n', 'auth', 'get', 'secret', 'dex-passwords', '-o', 'jsonpath={.data.DEX_USER_PASSWORD}'])).stdout), 'base64').toString();
    expect(hash).toMatch(/^\$2[aby]\$/);
    const check = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])', password!, hash], { encoding: 'utf8' }).trim();
    expect(check).toBe('True');
  });
});
