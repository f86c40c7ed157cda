import { spawnSync } from 'node:child_process';
import type { TestContext } from 'vitest';

/**
 * A tool some tests need that the machine may lack. Without it a test is
 * reported as skipped with the reason (never as a pass); under CI=true it fails.
 *
 *   const yamllint = tool('yamllint', runs(process.env.YAMLLINT_BIN ?? 'yamllint'), 'pip install yamllint');
 *   it('...', (ctx) => { needs(ctx, yamllint); ... });
 *   describe.skipIf(yamllint.skip)(`...${yamllint.note}`, () => { beforeAll(() => yamllint.require()); ... });
 */
export interface NeededTool {
  name: string;
  available: boolean;
  /** why it is missing (empty when available) */
  reason: string;
  /** skip the tests needing it: missing, and not under CI=true */
  skip: boolean;
  /** ` (skipped: <reason>)` when skipped, for test names */
  note: string;
  /** throws, naming the tool and how to install it, when it is missing */
  require(): void;
}

export const inCI = () => process.env.CI === 'true';

export function tool(name: string, available: boolean, install: string): NeededTool {
  const reason = available ? '' : `${name} is not installed (${install})`;
  const skip = !available && !inCI();
  return {
    name,
    available,
    reason,
    skip,
    note: skip ? ` (skipped: ${reason})` : '',
    require() {
      if (!available) throw new Error(`${inCI() ? 'CI=true needs every tool: ' : ''}${reason}`);
    },
  };
}

/** Whether `bin --version` runs. */
export function runs(bin: string, args = ['--version']): boolean {
  return spawnSync(bin, args, { encoding: 'utf8' }).status === 0;
}

/** In a test: returns when every tool is there; else skips the test naming what is missing, or fails under CI=true. */
export function needs(ctx: TestContext, ...tools: NeededTool[]): void {
  const missing = tools.filter((t) => !t.available);
  if (!missing.length) return;
  const why = missing.map((t) => t.reason).join('; ');
  if (inCI()) throw new Error(`CI=true needs every tool: ${why}`);
  ctx.skip(why);
}
