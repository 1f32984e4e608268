// Runs the real phx-play binary in a child process, as a user would.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const binPath = join(repoRoot, 'bin', 'phx-play.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      CI: '1',
      NO_COLOR: '1',
      FORCE_COLOR: undefined,
      ...opts.env,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = spawn(process.execPath, [binPath, ...args], { cwd: opts.cwd, env: env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A temp directory with the given files (path → content); removed by cleanup(). */
export function workspace(files: Record<string, string> = {}): {
  dir: string;
  path: (p: string) => string;
  write: (p: string, c: string) => void;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'phx-test-'));
  const write = (p: string, c: string) => {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  };
  for (const [p, c] of Object.entries(files)) write(p, c);
  return { dir, path: (p) => join(dir, p), write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An INI inventory of local-connection hosts. */
export function localInventory(hosts: string[], extra = ''): string {
  return `[all]\n${hosts.map((h) => `${h} ansible_connection=local`).join('\n')}\n${extra}`;
}

/** Runs a playbook on local-connection hosts from a workspace (its inv.ini and pb.yml are rewritten). */
export function runLocalPlay(
  ws: ReturnType<typeof workspace>,
  yaml: string,
  hosts: string[],
  args: string[] = [],
): Promise<CliRun> {
  ws.write('inv.ini', localInventory(hosts));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...args], { cwd: ws.dir });
}

/** Parses `PLAY RECAP` lines into counters per host. */
export function recap(output: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return out;
  for (const line of output.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  }
  return out;
}
