// ansible_connection: local — commands run on this machine through /bin/sh.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { ExecStreams } from './become.js';
import { isTimeout, TIMEOUT_GRACE_MS, withTimeoutNote } from './timeout.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

export class LocalConnection implements Connection {
  readonly kind = 'local' as const;

  async connect(): Promise<void> {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        fn();
      };
      const streams = new ExecStreams(opts.stdin, opts.become, {
        write: (d) => child.stdin.write(d),
        end: (d) => child.stdin.end(d ?? ''),
        fail: (e) => {
          child.kill('SIGKILL');
          finish(() => reject(e));
        },
      });
      // a backstop: the command line's own `timeout` (see buildCommand) also kills its children
      if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs + TIMEOUT_GRACE_MS);
      child.stdout.on('data', (d: Buffer) => streams.onStdout(d));
      child.stderr.on('data', (d: Buffer) => streams.onStderr(d));
      child.stdin.on('error', () => {}); // the command may not read its stdin
      child.on('error', (e) => finish(() => reject(e)));
      child.on('close', (code, signal) => {
        const output = streams.output();
        const stdout = output.stdout;
        let stderr = output.stderr;
        const rc = code ?? 128 + ((signal && osConstants.signals[signal]) || 9);
        const timedOut = isTimeout(opts.timeoutMs, started, rc);
        if (timedOut) stderr = withTimeoutNote(stderr, opts.timeoutMs!);
        const r: ExecResult = { rc, stdout, stderr, ...(signal ? { signal } : {}) };
        const become = streams.failure(r, timedOut);
        finish(() => (become ? reject(become) : resolve(r)));
      });
      streams.start();
    });
  }

  async putFile(path: string, data: Buffer, opts: { mode?: number } = {}): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${basename(path)}.phx-${process.pid}-${Date.now()}`);
    await writeFile(tmp, data, { mode: opts.mode ?? 0o644 });
    if (opts.mode !== undefined) await chmod(tmp, opts.mode);
    await rename(tmp, path);
  }

  async getFile(path: string): Promise<Buffer | null> {
    try {
      return await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async close(): Promise<void> {}
}
