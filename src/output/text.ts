// Human text for run events, shared by the plain reporter and the live view.
import { Chalk, type ChalkInstance } from 'chalk';
import type { HostStatus, RecapCounters, RunEvent } from '../events.js';
import type { SlowestTasks } from './slowest.js';
import type { Diff } from '../module.js';
import { unifiedDiff } from './diff.js';
import { jsonTerminalSafe, terminalSafe, terminalSafeLine } from './escape.js';

export function makeChalk(stream: NodeJS.WriteStream): ChalkInstance {
  // NO_COLOR wins; FORCE_COLOR forces; otherwise colour only on a terminal.
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return new Chalk({ level: 0 });
  if (process.env.FORCE_COLOR !== undefined) return new Chalk({ level: process.env.FORCE_COLOR === '0' ? 0 : 1 });
  return new Chalk({ level: stream.isTTY ? 1 : 0 });
}

export const banner = (c: ChalkInstance, title: string): string =>
  c.bold(`${title} ${'*'.repeat(Math.max(3, 79 - title.length))}`);

const WORD: Record<HostStatus, string> = {
  ok: 'ok',
  changed: 'changed',
  failed: 'fatal',
  skipped: 'skipping',
  unreachable: 'fatal',
};

export function statusColor(c: ChalkInstance, status: HostStatus, ignored: boolean): (s: string) => string {
  if (ignored) return c.cyan;
  return { ok: c.green, changed: c.yellow, failed: c.red, skipped: c.cyan, unreachable: c.red }[status];
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;

type HostResult = Extract<RunEvent, { type: 'host_result' }>;

/** One result line (plus details): `changed: [pve01] create dataset tank/ct (0.12s)`. */
export function hostResultText(
  c: ChalkInstance,
  e: HostResult,
  module: string,
  verbosity: number,
  diff: boolean,
): string {
  const color = statusColor(c, e.status, e.ignored);
  const host = e.delegatedTo ? `[${e.host} -> ${e.delegatedTo}]` : `[${e.host}]`;
  const item = e.item !== undefined ? ` => (item=${e.item})` : '';
  const r = e.result;
  const lines: string[] = [];
  if (e.status === 'failed' || e.status === 'unreachable') {
    const kind = e.status === 'failed' ? 'FAILED!' : 'UNREACHABLE!';
    lines.push(color(`${WORD[e.status]}: ${host}${item}: ${kind} => ${failureText(r)} (${seconds(e.durationMs)})`));
    if (e.ignored) lines.push(c.cyan('...ignoring'));
  } else {
    const msg =
      e.status === 'changed' && typeof r.msg === 'string' && r.msg.trim() && !('results' in r)
        ? ` ${terminalSafeLine(r.msg.trim())}`
        : '';
    lines.push(color(`${WORD[e.status]}: ${host}${item}${msg} (${seconds(e.durationMs)})`));
  }
  if (diff && r.diff) lines.push(diffText(c, r.diff as Diff | Diff[]));
  if (verbosity >= 1) lines.push(resultDump(r));
  else if (module === 'debug' && e.status === 'ok') {
    // debug output is the point of a debug task: always shown, like Ansible
    const { changed: _c, failed: _f, ...shown } = r;
    lines.push(resultDump(shown));
  }
  return lines.join('\n');
}

function failureText(r: Record<string, unknown>): string {
  const parts = [typeof r.msg === 'string' ? r.msg : (JSON.stringify(r.msg ?? 'failed') ?? 'failed')];
  if (typeof r.stderr === 'string' && r.stderr.trim() && !parts[0].includes(r.stderr.trim()))
    parts.push(`stderr: ${r.stderr.trim()}`);
  return terminalSafe(parts.join('\n'));
}

export function resultDump(r: Record<string, unknown>): string {
  const { stdout_lines: _o, stderr_lines: _e, ...shown } = r;
  return jsonTerminalSafe(JSON.stringify(shown, null, 4));
}

export function diffText(c: ChalkInstance, d: Diff | Diff[]): string {
  const diffs = Array.isArray(d) ? d : [d];
  return diffs
    .map((x) =>
      unifiedDiff(x.before ?? '', x.after ?? '', x.before_header ?? 'before', x.after_header ?? 'after')
        .trimEnd()
        .split('\n')
        .map(terminalSafe)
        .map((l) =>
          l.startsWith('+') && !l.startsWith('+++')
            ? c.green(l)
            : l.startsWith('-') && !l.startsWith('---')
              ? c.red(l)
              : l,
        )
        .join('\n'),
    )
    .join('\n');
}

export function recapText(c: ChalkInstance, hosts: Record<string, RecapCounters>): string {
  const names = Object.keys(hosts);
  const width = Math.max(0, ...names.map((n) => n.length));
  const lines = [banner(c, 'PLAY RECAP')];
  for (const name of names) {
    const k = hosts[name];
    const color = k.failed || k.unreachable ? c.red : k.changed ? c.yellow : c.green;
    const field = (label: string, n: number, col: (s: string) => string) =>
      (n > 0 ? col(`${label}=${n}`) : `${label}=${n}`).padEnd(label.length + 4 + (n > 0 && c.level > 0 ? 10 : 0));
    lines.push(
      `${color(name.padEnd(width))} : ${field('ok', k.ok, c.green)} ${field('changed', k.changed, c.yellow)} ${field('unreachable', k.unreachable, c.red)} ${field('failed', k.failed, c.red)} ${field('skipped', k.skipped, c.cyan)} ${field('rescued', k.rescued, c.magenta)} ${field('ignored', k.ignored, c.cyan)}`.trimEnd(),
    );
  }
  return lines.join('\n');
}

/** The -v table of the slowest task/host pairs; '' when nothing was timed. */
export function slowestText(c: ChalkInstance, slowest: SlowestTasks, n = 10): string {
  const rows = slowest.top(n);
  if (rows.length === 0) return '';
  return [
    c.bold('\nSLOWEST TASKS'),
    ...rows.map((r) => `${seconds(r.durationMs).padStart(8)}  [${r.host}] ${r.task}`),
  ].join('\n');
}

/**
 * Text both human views print alike (run and play headers, warnings, the
 * recap); '' for an event that prints nothing; undefined for the events a
 * view renders its own way (tasks, results, commands).
 */
export function sharedEventText(
  c: ChalkInstance,
  e: RunEvent,
  slowest: SlowestTasks,
  verbosity: number,
): string | undefined {
  switch (e.type) {
    case 'playbook_start':
      return e.check ? c.magenta(`CHECK MODE: nothing will be changed (${e.playbook})`) : '';
    case 'play_start':
      return `\n${banner(c, `PLAY [${e.play}]`)}`;
    case 'no_hosts':
      return c.magenta(`skipping: no hosts matched '${e.pattern}'`);
    case 'warning':
      return c.magenta(`${e.deprecation ? '[DEPRECATION WARNING]' : '[WARNING]'}: ${e.message}`);
    case 'recap':
      return [
        `\n${recapText(c, e.hosts)}`,
        verbosity >= 1 ? slowestText(c, slowest) : '',
        c.dim(`finished in ${seconds(e.durationMs)}`),
      ]
        .filter(Boolean)
        .join('\n');
    default:
      return undefined;
  }
}
