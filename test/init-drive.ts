import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';

/**
 * Drives interactive prompts with keystrokes, the way a person answers them: waits until the
 * screen shows a question, then types. For in-process prompts (streams) and for a program in a
 * pseudo-terminal (`script` from util-linux).
 */

export const KEY = { enter: '\r', down: '\x1b[B', up: '\x1b[A', space: ' ', ctrlC: '\x03', ctrlU: '\x15' };

/** A step: once the screen shows `when` (after the previous step's), type `keys`. */
export interface Step {
  when: RegExp;
  keys: string;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
export const plain = (s: string) => s.replace(ANSI, '').replace(/\r/g, '');

/** Waits for each step's text in `screen()` past the previous match, then sends its keys. */
async function play(steps: Step[], screen: () => string, send: (k: string) => void, done: () => boolean, timeoutMs: number): Promise<void> {
  let from = 0;
  for (const s of steps) {
    const start = Date.now();
    for (;;) {
      const text = plain(screen()).slice(from);
      const m = s.when.exec(text);
      if (m) {
        from += m.index + m[0].length;
        break;
      }
      if (done() || Date.now() - start > timeoutMs) throw new Error(`prompt ${s.when} did not appear; the screen ends with:\n${plain(screen()).slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // let the prompt attach to its input before typing
    await new Promise((r) => setTimeout(r, 30));
    send(s.keys);
  }
}

/** Streams for in-process prompts, and the player typing into them. */
export function promptStreams() {
  const input = new PassThrough();
  let text = '';
  const output = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  // like process.stdout, never ended by a stream piped into it (each prompt pipes its output here and ends that)
  output.end = (() => output) as typeof output.end;
  return {
    streams: { input, output },
    screen: () => text,
    play: (steps: Step[], done: () => boolean = () => false) =>
      play(
        steps,
        () => text,
        (k) => input.write(k),
        done,
        20_000,
      ),
  };
}

/** Runs a command in a pseudo-terminal (`script -qfec`), typing the steps; its exit code and screen. */
export function inTerminal(argv: string[], steps: Step[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; screen: string }> {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: o.cwd, env: { ...process.env, TERM: 'xterm', COLUMNS: '200', LINES: '60', ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d.toString()));
  child.stderr.on('data', (d) => (text += d.toString()));
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  return play(
    steps,
    () => text,
    (k) => child.stdin.write(k),
    () => exited,
    60_000,
  ).then(
    async () => ({ code: await exit, screen: plain(text) }),
    async (e) => {
      child.kill('SIGKILL');
      await exit;
      throw e;
    },
  );
}
