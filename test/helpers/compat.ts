// The compatibility corpus (issue 15): real playbooks and roles from public
// repositories in test/compat/<name>/, each run as root in a throwaway root
// (test/compat/sandbox.sh) by phx-play and by ansible-playbook, their end states
// and recaps compared. test/compat/manifest.yml says how each item is run and
// what it is expected to give today.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, binPath } from './cli.js';

export const compatDir = join(repoRoot, 'test', 'compat');
const sandbox = join(compatDir, 'sandbox.sh');

export type Scope = 'supported' | 'unsupported';

export interface CompatItem {
  name: string;
  /** the playbook, relative to the item's directory */
  playbook: string;
  /** more arguments for both tools (`--check`, `-e`, `-t`) */
  args: string[];
  /** whether every module the item uses is one phx-play implements */
  scope: Scope;
  /** 'same': end state and recap as Ansible's; 'differs': an expected failure, `reason` says why */
  expect: 'same' | 'differs';
  reason?: string;
  /** what blocks it, when another piece of work is expected to fix it */
  blockedBy?: string;
}

/** counters of one host's recap line */
export type Recap = Record<string, Record<string, number>>;

/** what one run did: its exit code, recap and the paths it changed */
export interface EndState {
  rc: number;
  recap: Recap;
  /** state.tsv lines: type, mode, owner, group, size, sha256 or link target, path */
  state: string[];
}

export function loadManifest(): CompatItem[] {
  const doc = parse(readFileSync(join(compatDir, 'manifest.yml'), 'utf8')) as { items: Partial<CompatItem>[] };
  return doc.items.map((i) => {
    if (!i.name || !i.playbook || !i.scope || !i.expect)
      throw new Error(`manifest: incomplete item ${JSON.stringify(i)}`);
    if (i.expect === 'differs' && !i.reason) throw new Error(`manifest: ${i.name} differs without a reason`);
    return { args: [], ...i } as CompatItem;
  });
}

const recapLine = /^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$/;

/** the PLAY RECAP of ansible-playbook's or phx-play's output */
export function parseRecap(output: string): Recap {
  const recap: Recap = {};
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return recap;
  for (const line of output.slice(at).split('\n').slice(1)) {
    const m = recapLine.exec(line.trim());
    if (!m) continue;
    const counts: Record<string, number> = {};
    for (const kv of m[2].trim().split(/\s+/)) {
      const [k, v] = kv.split('=');
      counts[k] = Number(v);
    }
    recap[m[1]] = counts;
  }
  return recap;
}

/** whether this machine can run the sandbox: root, unshare and an overlay of / */
export function sandboxUsable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the compat corpus runs as root in a throwaway root: not root here';
  const out = mkdtempSync(join(tmpdir(), 'phx-compat-probe-'));
  try {
    mkdirSync(join(out, 'item'));
    execFileSync(sandbox, [join(out, 'item'), join(out, 'run'), 'touch /etc/phx-compat-probe'], {
      stdio: 'pipe',
      timeout: 30_000,
    });
    const state = readFileSync(join(out, 'run', 'state.tsv'), 'utf8');
    if (!state.includes('/etc/phx-compat-probe')) return `the sandbox did not record a write: ${state}`;
    if (existsSync('/etc/phx-compat-probe')) return 'the sandbox wrote to the host';
    return undefined;
  } catch (e) {
    return `the sandbox does not work here: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export type Tool = 'phx-play' | 'ansible-playbook';

function commandLine(tool: Tool, playbook: string, more: string[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const args = ['-i', 'localhost,', '-c', 'local', ...more, playbook].map(q).join(' ');
  return tool === 'phx-play' ? `${q(process.execPath)} ${q(binPath)} ${args}` : `ansible-playbook ${args}`;
}

/** runs one item with one tool in the sandbox */
export function runItem(tool: Tool, item: CompatItem): Promise<EndState & { output: string }> {
  return runInSandbox(tool, join(compatDir, item.name), item.playbook, item.args, item.name);
}

/** runs a playbook of `dir` (copied into the sandbox) with one tool in the sandbox */
export function runInSandbox(
  tool: Tool,
  dir: string,
  playbook: string,
  more: string[] = [],
  label = dir,
): Promise<EndState & { output: string }> {
  const out = mkdtempSync(join(tmpdir(), 'phx-compat-'));
  const limitS = tool === 'ansible-playbook' ? 600 : 120;
  return new Promise((resolve, reject) => {
    execFile(
      sandbox,
      [dir, out, commandLine(tool, playbook, more)],
      // ansible-playbook starts Python for every task (and loop item): slow on a busy machine
      {
        timeout: (limitS + 60) * 1000,
        env: {
          ...process.env,
          PHX_COMPAT_REPO: repoRoot,
          PHX_COMPAT_TIMEOUT: String(limitS),
          // Ansible's backups copy file attributes, which a tmpfs upper layer cannot hold (sandbox.sh)
          PHX_COMPAT_UPPER: tool === 'ansible-playbook' ? 'ext4' : 'tmpfs',
        },
      },
      (err) => {
        try {
          if (err) throw new Error(`sandbox.sh for ${label}: ${err.message}`);
          const output = readFileSync(join(out, 'output'), 'utf8');
          const rc = Number(readFileSync(join(out, 'rc'), 'utf8').trim());
          const state = readFileSync(join(out, 'state.tsv'), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(normalizeLine)
            .sort();
          resolve({ rc, recap: parseRecap(output), state, output });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        } finally {
          rmSync(out, { recursive: true, force: true });
        }
      },
    );
  });
}

/** Ansible's backup name (`file.1234.2026-12-07@05:25:12~`, module_utils/basic.py backup_local) */
const BACKUP = /\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/;

/**
 * What does not depend on the content but on the run or the host: a backup's
 * name carries the time and its content is the host's old file; an owner left
 * as a number (a removed user's home) is the id useradd picked on this host.
 */
function normalizeLine(line: string): string {
  const f = line.split('\t');
  if (f.length !== 7) return line;
  if (BACKUP.test(f[6])) {
    f[6] = f[6].replace(BACKUP, '.<backup>~');
    f[4] = '-';
    f[5] = '-';
  }
  for (const i of [2, 3]) if (/^\d{3,}$/.test(f[i])) f[i] = '#';
  return f.join('\t');
}

export function fixturePath(item: CompatItem): string {
  return join(compatDir, 'expected', `${item.name}.json`);
}

export function readFixture(item: CompatItem): EndState | undefined {
  const p = fixturePath(item);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as EndState) : undefined;
}

/** what differs between two runs, one line each; empty when they agree */
export function compare(ours: EndState, theirs: EndState): string[] {
  const diffs: string[] = [];
  if ((ours.rc === 0) !== (theirs.rc === 0)) diffs.push(`exit code ${ours.rc}, Ansible's ${theirs.rc}`);
  if (JSON.stringify(ours.recap) !== JSON.stringify(theirs.recap))
    diffs.push(`recap ${JSON.stringify(ours.recap)}, Ansible's ${JSON.stringify(theirs.recap)}`);
  const a = new Set(ours.state);
  const b = new Set(theirs.state);
  for (const l of theirs.state) if (!a.has(l)) diffs.push(`missing: ${l}`);
  for (const l of ours.state) if (!b.has(l)) diffs.push(`extra:   ${l}`);
  return diffs;
}

export function ansibleInstalled(): boolean {
  try {
    execFileSync('ansible-playbook', ['--version'], { stdio: 'pipe', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** runs `fn` over `items`, at most `n` at once, results in order */
export async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}
