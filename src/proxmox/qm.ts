// Running commands inside a VM through `qm guest exec` (whose rc is 0 even when
// the guest command failed: the JSON on stdout tells).
import { ModuleError, type ModuleContext } from '../module.js';
import type { ExecResult } from '../connection/types.js';
import { shellJoin } from '../quote.js';
import { sleep } from '../sleep.js';
import { agentEnabled } from './qm-agent.js';

/** What `qm guest exec` printed, parsed. */
export interface GuestExecStatus {
  /** false when qm's --timeout was reached (only `pid` came back) */
  exited: boolean;
  exitcode?: number;
  /** empty string when absent (qm omits empty streams) */
  outData: string;
  errData: string;
  outTruncated: boolean;
  errTruncated: boolean;
  signal?: number;
  pid?: number;
}

/** Parses qm's pretty JSON object. Throws a ModuleError on anything else. */
export function parseGuestExecOutput(stdout: string): GuestExecStatus {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    throw new ModuleError(`qm guest exec printed something that is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ModuleError(`qm guest exec printed JSON that is not an object: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const o = v as Record<string, unknown>;
  const num = (x: unknown) =>
    typeof x === 'number' ? x : typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : undefined;
  const exited = num(o.exited) === 1 || o.exited === true;
  return {
    exited,
    exitcode: num(o.exitcode),
    outData: typeof o['out-data'] === 'string' ? o['out-data'] : '',
    errData: typeof o['err-data'] === 'string' ? o['err-data'] : '',
    outTruncated: num(o['out-truncated']) === 1 || o['out-truncated'] === true,
    errTruncated: num(o['err-truncated']) === 1 || o['err-truncated'] === true,
    signal: num(o.signal),
    pid: num(o.pid),
  };
}

export function guestExecArgv(vmid: number, argv: readonly string[], timeoutSeconds?: number): string[] {
  return [
    'qm',
    'guest',
    'exec',
    String(vmid),
    ...(timeoutSeconds !== undefined ? ['--timeout', String(timeoutSeconds)] : []),
    '--',
    ...argv,
  ];
}

export const AGENT_NOT_RUNNING = /QEMU guest agent is not running/i;

/** Turns a qm failure (rc ≠ 0) into a sentence; undefined when it is worth a retry. */
export function describeQmError(vmid: number, stderr: string): string {
  const s = stderr.trim();
  if (/No QEMU guest agent configured/i.test(s))
    return `VM ${vmid} has no QEMU guest agent configured (qm set ${vmid} --agent 1, then restart it)`;
  if (/is not running/i.test(s) && /^VM \d+ is not running/im.test(s)) return `VM ${vmid} is not running`;
  if (/does not exist/i.test(s)) return `VM ${vmid} does not exist on this host (${s})`;
  // qm says the same for an agent disabled in the VM's config (see qm-agent.ts)
  if (AGENT_NOT_RUNNING.test(s))
    return `the QEMU guest agent in VM ${vmid} is not running (or disabled: check \`agent: 1\` in qm config ${vmid})`;
  return `qm guest exec in VM ${vmid} failed: ${s || 'no error text'}`;
}

/** Interprets one `qm guest exec` result: rc ≠ 0, timeout, or the guest command's own exit. */
export function guestResult(vmid: number, argv: readonly string[], r: ExecResult, timeoutSeconds?: number): ExecResult {
  if (r.rc !== 0) throw new ModuleError(describeQmError(vmid, r.stderr), { result: r });
  const st = parseGuestExecOutput(r.stdout);
  if (!st.exited) {
    throw new ModuleError(
      `guest command timed out${timeoutSeconds !== undefined ? ` after ${timeoutSeconds} s` : ''} in VM ${vmid} (still running as pid ${st.pid ?? '?'}): ${shellJoin(argv)}`,
      { result: r },
    );
  }
  const rc = st.exitcode ?? (st.signal !== undefined ? 128 + st.signal : 0);
  return { rc, stdout: st.outData, stderr: st.errData };
}

export interface GuestOptions {
  /** qm's --timeout (seconds the agent waits for the command); default 30 */
  timeoutSeconds?: number;
  /** how long to keep retrying while the guest agent is not running yet; default 60 s */
  agentTimeoutMs?: number;
  /** pause between those retries; default 1 s */
  retryIntervalMs?: number;
}

/**
 * Runs argv inside VM `vmid`, returning the guest command's rc/stdout/stderr.
 * Retries (bounded) while the guest agent is not running yet; throws
 * ModuleError for qm errors and timeouts. A guest rc ≠ 0 is returned, not thrown.
 */
export async function runInGuest(
  ctx: ModuleContext,
  vmid: number,
  argv: readonly string[],
  opts: GuestOptions = {},
): Promise<ExecResult> {
  const timeoutSeconds = opts.timeoutSeconds ?? 30;
  const agentTimeoutMs = opts.agentTimeoutMs ?? 60_000;
  const interval = opts.retryIntervalMs ?? 1000;
  const started = Date.now();
  const qmArgv = guestExecArgv(vmid, argv, timeoutSeconds);
  let configChecked = false;
  for (;;) {
    const r = await ctx.run(qmArgv, { okExit: 'any' });
    if (r.rc !== 0 && AGENT_NOT_RUNNING.test(r.stderr)) {
      if (!configChecked) {
        // a disabled agent never starts: say so instead of waiting for it
        configChecked = true;
        await failIfAgentDisabled(ctx, vmid, r);
      }
      const waited = Date.now() - started;
      if (waited + interval > agentTimeoutMs || ctx.signal.aborted) {
        throw new ModuleError(
          `the QEMU guest agent in VM ${vmid} was still not running after ${Math.round(waited / 1000)} s (agent_timeout ${Math.round(agentTimeoutMs / 1000)} s)`,
          { result: r },
        );
      }
      ctx.log(`VM ${vmid}: guest agent not running yet, retrying in ${interval} ms`);
      await sleep(interval, ctx.signal);
      continue;
    }
    return guestResult(vmid, argv, r, timeoutSeconds);
  }
}

/**
 * Throws when VM `vmid`'s config has its guest agent disabled (`agent: 0`),
 * where qm's "QEMU guest agent is not running" will not change by waiting.
 * A config that cannot be read changes nothing: the caller goes on retrying.
 */
async function failIfAgentDisabled(ctx: ModuleContext, vmid: number, qmResult: ExecResult): Promise<void> {
  const conf = await ctx.run(['qm', 'config', String(vmid)], { okExit: 'any' });
  if (conf.rc !== 0) return;
  const line = /^agent: (.*)$/m.exec(conf.stdout);
  if (line && agentEnabled(line[1].trim()) === false)
    throw new ModuleError(
      `the QEMU guest agent of VM ${vmid} is disabled in its config (agent: ${line[1].trim()}), so qm says "QEMU guest agent is not running"`,
      {
        result: qmResult,
        hint: `qm set ${vmid} --agent 1, then restart VM ${vmid} (stop and start: a reboot inside the guest is not enough)`,
      },
    );
}

/** Runs a command where Docker lives: in VM `vmid` through qm, or on the host itself. */
export type DockerRunner = (argv: readonly string[]) => Promise<ExecResult>;

export function dockerRunner(ctx: ModuleContext, vmid: number | undefined, opts: GuestOptions = {}): DockerRunner {
  if (vmid === undefined) return (argv) => ctx.run(argv, { okExit: 'any' });
  return (argv) => runInGuest(ctx, vmid, argv, opts);
}

/** `qm guest exec <vmid> … -- cmd` in a user's argv: its real outcome is in the JSON. */
export function isGuestExecArgv(argv: readonly string[]): number | undefined {
  if (argv.length >= 5 && argv[0] === 'qm' && argv[1] === 'guest' && argv[2] === 'exec' && /^\d+$/.test(argv[3]))
    return Number(argv[3]);
  return undefined;
}
