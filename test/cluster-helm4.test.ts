import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { kubectlBin } from '../packages/cluster/src/index.js';
import { repoRoot } from '../packages/generator/src/core/paths.js';
import { describeCluster, type TestCluster } from './cluster.js';
import { lifecycleTests, UMBRELLA_DIR } from './cluster-lifecycle.js';

/** The README's "choose a value: create the Secret first" commands, as written. */
function recipe(): string[] {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const block = /For Dex's static user \(the Job hashes the password into[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md: the "create the Secret first" recipe is gone');
  return block.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
}

const lines = recipe();
const password = /--from-literal=password='([^']+)'/.exec(lines.join('\n'))?.[1];

/** The recipe runs as written (the pinned kubectl first on PATH, KUBECONFIG the control plane's). */
async function runRecipe(c: TestCluster): Promise<void> {
  expect(password, 'the recipe chooses a password').toBeTruthy();
  for (const line of lines) await execa('bash', ['-ec', line], { env: { ...c.env, PATH: `${path.dirname(kubectlBin())}:${process.env.PATH}` } });
}

/** The chart adopted the namespace, and Dex got the bcrypt hash of the chosen password. */
async function chosenPasswordHashed(c: TestCluster): Promise<void> {
  const hash = Buffer.from(String((await c.kubectl(['-n', 'auth', 'get', 'secret', 'dex-passwords', '-o', 'jsonpath={.data.DEX_USER_PASSWORD}'])).stdout), 'base64').toString();
  expect(hash).toMatch(/^\$2[aby]\$/);
  const ok = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2])', password!, hash], { encoding: 'utf8' }).trim();
  expect(ok, 'dex-passwords holds the hash of the password the README recipe chose').toBe('True');
}

// defaults plus profiles from values (every kind the README says uninstall keeps is rendered),
// installed after the README's recipe for choosing Dex's password
describeCluster("the umbrella on a real control plane, Helm 4: the README's credential recipe, install, test, uninstall, install again", (cluster) => {
  lifecycleTests(4, cluster, [path.join(UMBRELLA_DIR, 'ci', '19-user-namespace-profiles-values.yaml')], { prepare: runRecipe, check: chosenPasswordHashed });
});
