// wait_for: waits until a TCP port on (or seen from) the host opens or closes,
// a file appears (optionally containing a regex) or disappears, or just for
// `timeout` seconds. The wait loop runs ON the host in one command: the
// controller may not reach the target's network, and one probe per round
// trip would be slow. Read-only: it also waits in check mode, never changed.
import * as z from 'zod';
import { defineModule, ModuleError } from '../src/module.js';
import { shellQuote } from '../src/quote.js';
import { safePath } from '../src/remote/probe.js';

const seconds = () => z.number().nonnegative();

const args = () =>
  z
    .object({
      host: z.string().min(1).default('127.0.0.1').describe('address to connect to, as seen from the target host'),
      port: z.number().int().min(1).max(65535).optional(),
      path: z.string().min(1).optional().describe('file to wait for'),
      state: z
        .enum(['started', 'stopped', 'present', 'absent'])
        .default('started')
        .describe('started/present: open or exists; stopped/absent: closed or gone'),
      search_regex: z
        .string()
        .optional()
        .describe('with path: wait until the file contains a match (Perl/Python-style regex)'),
      timeout: seconds().default(300).describe('seconds before failing'),
      delay: seconds().default(0).describe('seconds to wait before the first check'),
      sleep: seconds().default(1).describe('seconds between checks'),
      connect_timeout: seconds().default(5).describe('seconds a connection attempt may take'),
      msg: z.string().optional().describe('message on timeout instead of the default'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.port !== undefined && a.path !== undefined)
        ctx.addIssue({ code: 'custom', path: ['path'], message: 'port and path are mutually exclusive' });
      if (a.search_regex !== undefined && a.path === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['search_regex'],
          message: 'search_regex needs path (matching on a port is not supported)',
        });
      if (a.search_regex !== undefined && a.state === 'absent')
        ctx.addIssue({
          code: 'custom',
          path: ['search_regex'],
          message: 'search_regex cannot be used with state absent',
        });
    });

type Args = z.infer<ReturnType<typeof args>>;

interface Outcome {
  ok: boolean;
  elapsed: number;
}

const num = (n: number) => String(n);

/** The sh condition that is true when the wait is over. */
function doneCondition(a: Args): string {
  const wantUp = a.state === 'started' || a.state === 'present';
  if (a.port !== undefined) {
    // bash's /dev/tcp where bash exists (Proxmox, Debian), else nc
    const probe =
      `{ if command -v bash >/dev/null 2>&1; then timeout ${num(a.connect_timeout)} bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${shellQuote(a.host)} ${a.port}; ` +
      `else nc -z -w ${num(Math.max(1, Math.ceil(a.connect_timeout)))} ${shellQuote(a.host)} ${a.port}; fi; } >/dev/null 2>&1`;
    return wantUp ? probe : `! ${probe}`;
  }
  if (a.path !== undefined) {
    const p = shellQuote(safePath(a.path));
    if (!wantUp) return `! [ -e ${p} ]`;
    if (a.search_regex === undefined) return `[ -e ${p} ]`;
    const re = shellQuote(a.search_regex);
    return `{ grep -qP -e ${re} ${p} 2>/dev/null || grep -qE -e ${re} ${p} 2>/dev/null; }`;
  }
  return 'false'; // nothing to wait for: just sleep for timeout
}

function waitScript(a: Args): string {
  return [
    // milliseconds (GNU date), so a 1 s timeout is not up to 1 s early
    'start=$(date +%s%3N)',
    a.delay > 0 ? `sleep ${num(a.delay)}` : ':',
    'while :; do',
    `  if ${doneCondition(a)}; then echo "OK $(( ($(date +%s%3N) - start) / 1000 ))"; exit 0; fi`,
    '  now=$(date +%s%3N)',
    `  if [ $((now - start)) -ge ${Math.round(a.timeout * 1000)} ]; then echo "TIMEOUT $(( (now - start) / 1000 ))"; exit 0; fi`,
    `  sleep ${num(a.sleep)}`,
    'done',
  ].join('\n');
}

function timeoutMessage(a: Args): string {
  if (a.msg !== undefined) return a.msg;
  if (a.port !== undefined)
    return a.state === 'stopped' || a.state === 'absent'
      ? `Timeout when waiting for ${a.host}:${a.port} to stop.`
      : `Timeout when waiting for ${a.host}:${a.port}`;
  if (a.path !== undefined) {
    if (a.state === 'absent' || a.state === 'stopped') return `Timeout when waiting for ${a.path} to be absent.`;
    return a.search_regex !== undefined
      ? `Timeout when waiting for search string ${a.search_regex} in ${a.path}`
      : `Timeout when waiting for file ${a.path}`;
  }
  return `Timeout`;
}

export default defineModule<Args, Outcome>({
  name: 'wait_for',
  aliases: ['ansible.builtin.wait_for', 'ansible.legacy.wait_for'],
  description: 'Wait on the host for a port to open/close, a file to appear (with a regex) or vanish, or a time',
  args,
  async facts(ctx, a) {
    const r = await ctx.runShell(waitScript(a));
    const m = /^(OK|TIMEOUT) (\d+)/m.exec(r.stdout);
    if (!m)
      throw new ModuleError(`wait_for loop: ${r.stderr.trim() || r.stdout.trim() || `exit code ${r.rc}`}`, {
        result: r,
      });
    return { ok: m[1] === 'OK', elapsed: Number(m[2]) };
  },
  plan(o, a) {
    const result: Record<string, unknown> = { elapsed: o.elapsed, state: a.state };
    if (a.port !== undefined) result.port = a.port;
    if (a.path !== undefined) result.path = a.path;
    if (a.search_regex !== undefined) result.search_regex = a.search_regex;
    const nothingToWaitFor = a.port === undefined && a.path === undefined;
    if (!o.ok && !nothingToWaitFor) return { changes: [], result, fail: timeoutMessage(a) };
    return { changes: [], result };
  },
});
