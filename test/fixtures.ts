import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MIRROR } from './releases.js';

/**
 * A small manifests release made at test time from pieces of the mirror (never
 * committed): an example listing `lines`, with `copy` directories taken from
 * v1.11.0 and `files` written as given.
 */
export function makeRelease(opts: { lines: string[]; copy?: string[]; files?: Record<string, string> }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kfc-release-'));
  for (const c of opts.copy ?? []) cpSync(path.join(MIRROR, 'v1.11.0', c), path.join(dir, c), { recursive: true });
  for (const [f, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), text);
  }
  mkdirSync(path.join(dir, 'example'), { recursive: true });
  writeFileSync(path.join(dir, 'example', 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${opts.lines.join('\n')}\n`);
  return dir;
}

/** `git archive` of a release directory, as GitHub serves tag tarballs (with the commit in a pax header). */
export function tarball(dir: string, prefix: string): { file: string; commit: string } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'release');
  const commit = git('rev-parse', 'HEAD');
  const file = path.join(dir, '..', `${path.basename(dir)}.tar.gz`);
  execFileSync('git', ['archive', '--format=tar.gz', `--prefix=${prefix}/`, '-o', file, 'HEAD'], { cwd: dir });
  return { file, commit };
}

/** Serves files on 127.0.0.1; unknown paths answer 404. */
export async function serve(files: Record<string, string>): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const { readFileSync } = await import('node:fs');
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(f));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

/** Serves a directory's files on 127.0.0.1 (a chart repository). */
export async function serveDir(root: string): Promise<{ root: string; url: string; hits: string[]; close: () => Promise<void> }> {
  const { readFileSync, existsSync } = await import('node:fs');
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    hits.push(url);
    const file = path.join(root, path.normalize(url).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { root, url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

const copies: string[] = [];

/** A writable copy of a mirrored release in a temp dir, changed by `edit` (cleanupCopies removes them). */
export function copyOf(tag: string, edit: (dir: string) => void): string {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kfc-copy-'));
  copies.push(tmp);
  const dir = path.join(tmp, tag);
  cpSync(path.join(MIRROR, tag), dir, { recursive: true });
  edit(dir);
  return dir;
}

export function cleanupCopies(): void {
  for (const d of copies.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Rewrites a release's example/kustomization.yaml. */
export function editExample(dir: string, f: (text: string) => string): void {
  const file = path.join(dir, 'example', 'kustomization.yaml');
  writeFileSync(file, f(readFileSync(file, 'utf8')));
}
