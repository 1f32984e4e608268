// Runs one command and measures it: wall time, and controller memory two ways.
// - peakTreeRssKb: the largest SUM of VmRSS over the command's process tree,
//   sampled every 100 ms from /proc (Ansible forks workers and ssh clients;
//   phx-play is one process). Daemonised ssh ControlPersist masters leave the
//   tree and are not counted.
// - maxRssKb: GNU time's %M, the largest single process (ru_maxrss of the
//   waited-for tree), when /usr/bin/time is installed; with its CPU time.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { processTree } from '../lab/sshd.js';

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  argv: string[];
  rc: number;
  wallMs: number;
  peakTreeRssKb: number;
  maxRssKb?: number;
  /** user + system CPU seconds of the command's tree (GNU time %U + %S) */
  cpuS?: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** sampling period for the process tree; default 100 ms */
  sampleMs?: number;
  timeoutMs?: number;
}

/** The command currently measured (and its output dir), so a Ctrl-C can stop its whole tree. */
let current: number | undefined;
let currentDir: string | undefined;

/** Ctrl-C: stop the measured command and drop its output. */
export function killCurrent(): void {
  killTree();
  if (currentDir) rmSync(currentDir, { recursive: true, force: true });
}

function killTree(): void {
  if (current === undefined) return;
  for (const pid of processTree(current).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function measure(argv: string[], o: RunOptions = {}): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const tmp = mkdtempSync(join(tmpdir(), 'phx-bench-run-'));
  currentDir = tmp;
  const timeFile = useTime ? join(tmp, 'rss') : undefined;
  const full = timeFile ? [GNU_TIME, '-f', '%M %U %S', '-o', timeFile, ...argv] : argv;
  // Output goes to files, not pipes: a write to a full pipe blocks the writer until the
  // reader (this process, busy sampling /proc) drains it, which would be timed too.
  const outFd = openSync(join(tmp, 'stdout'), 'w');
  const errFd = openSync(join(tmp, 'stderr'), 'w');
  const started = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', outFd, errFd],
  });
  closeSync(outFd);
  closeSync(errFd);
  current = child.pid;
  let peak = 0;
  const rootPid = child.pid;
  const sample = () => {
    if (rootPid === undefined) return;
    // GNU time itself (the root when used) is not the controller: leave it out
    const tree = processTree(rootPid).filter((p) => !(useTime && p === rootPid));
    const sum = tree.reduce((s, p) => s + rssKb(p), 0);
    if (sum > peak) peak = sum;
  };
  const timer = setInterval(sample, o.sampleMs ?? 100);
  const killer = o.timeoutMs ? setTimeout(killTree, o.timeoutMs) : undefined;
  const rc = await new Promise<number>((res) => {
    child.once('error', () => res(127));
    child.once('close', (code, signal) => res(code ?? (signal ? 128 : 1)));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  if (killer) clearTimeout(killer);
  current = undefined;
  const stdout = readFileSync(join(tmp, 'stdout'), 'utf8');
  const stderr = readFileSync(join(tmp, 'stderr'), 'utf8');
  let maxRssKb: number | undefined;
  let cpuS: number | undefined;
  if (timeFile) {
    try {
      // the file may start with "Command exited with non-zero status N"
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const [rss, user, sys] = lines[lines.length - 1].split(' ').map(Number);
      if (Number.isFinite(rss)) maxRssKb = rss;
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuS = user + sys;
    } catch {
      /* no number */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  currentDir = undefined;
  return { argv, rc, wallMs, peakTreeRssKb: peak, maxRssKb, cpuS, stdout, stderr };
}
