// What the lab records and costs per Proxmox CLI run: every start of a Proxmox
// VE tool (a Perl program on a real host), and of lxc-attach, is appended to the host's own log, and
// may be made to cost what the real program costs (`npm run lab -- up N
// --tool-latency pve`). The bench and the budget test count from the log.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** The Proxmox VE command-line programs: each loads the PVE Perl libraries when it starts. */
export const PVE_TOOLS = ['pct', 'pvesm', 'qm', 'pvenode', 'pveversion', 'pvecm', 'pvesh'] as const;
export type PveTool = (typeof PVE_TOOLS)[number];

/**
 * The host's log of Proxmox tool runs, one line each: `<tool> <args…>` (guest commands after `--` left out).
 * It lies beside the host's root (`<lab>/hosts/<name>/tool-calls.log`), not in it: it is the lab's
 * bookkeeping, not host state (a --check run must leave the host's files as they were).
 */
export const TOOL_CALLS_LOG = 'tool-calls.log';

/** Where this tool run logs: in a lab host (the shims set PHX_LAB_DIR; the UTS name is the host's), or PHX_LAB_TOOL_LOG. */
function logFile(): string | undefined {
  if (process.env.PHX_LAB_TOOL_LOG) return process.env.PHX_LAB_TOOL_LOG;
  return process.env.PHX_LAB_DIR ? join(process.env.PHX_LAB_DIR, 'hosts', hostname(), TOOL_CALLS_LOG) : undefined;
}

/** The simulator's own helper runs (`pct __finish-create`…) are no tool run. */
const isInternal = (args: string[]) => args[0]?.startsWith('__') === true;

/** Where a lab keeps its tool latencies (all hosts): `<lab dir>/tool-latency.json`, tool → milliseconds. */
export const toolLatencyFile = (labDir: string) => join(labDir, 'tool-latency.json');

export const isPveTool = (tool: string): tool is PveTool => (PVE_TOOLS as readonly string[]).includes(tool);

/**
 * Logged too, but no Proxmox CLI call: lxc-attach (what `pct exec` execs) is a C program of lxc that
 * loads no Perl. The log keeps it so that the bench reports it beside the Proxmox calls, not among them.
 */
export const OTHER_LOGGED_TOOLS = ['lxc-attach'] as const;

/** Appends one line for a Proxmox tool run or an lxc-attach (other tools, e.g. zfs, are not logged). */
export function logToolCall(tool: string, args: string[]): void {
  if (!(isPveTool(tool) || (OTHER_LOGGED_TOOLS as readonly string[]).includes(tool)) || isInternal(args)) return;
  const dash = args.indexOf('--');
  const own = dash >= 0 ? [...args.slice(0, dash), '--', '…'] : [...args];
  // a secret given on a command line is not copied into the log
  const shown = own.map((a, i) => (i > 0 && /^--?password$/.test(own[i - 1]) ? '…' : a));
  const line = [tool, ...shown].map((a) => a.replace(/[\s\\]/g, (c) => (c === '\\' ? '\\\\' : '\\s'))).join(' ');
  const file = logFile();
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, line + '\n');
}

/** The delay set for this tool in the lab (PHX_LAB_DIR comes from the shims), in ms; 0 when none. */
export function toolLatencyMs(tool: string, args: string[], labDir = process.env.PHX_LAB_DIR): number {
  if (!labDir || !isPveTool(tool) || isInternal(args)) return 0;
  try {
    const table = JSON.parse(readFileSync(toolLatencyFile(labDir), 'utf8')) as Record<string, unknown>;
    const ms = table[tool];
    return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.min(ms, 60_000) : 0;
  } catch {
    return 0;
  }
}

/** The Proxmox CLI calls of a log (lxc-attach left out). */
export const pveToolCalls = (calls: string[][]): string[][] => calls.filter((c) => isPveTool(c[0]));

/** Parses the lines of a host's tool log into `[tool, ...args]`. */
export function parseToolCalls(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ').map((a) => a.replace(/\\(s|\\)/g, (_, c: string) => (c === 's' ? ' ' : '\\'))));
}

/** Reads a lab host's tool log from the controller (`root`: the host's root directory, LabHost.root). */
export function readToolCalls(root: string): string[][] {
  try {
    return parseToolCalls(readFileSync(join(dirname(root.replace(/\/+$/, '')), TOOL_CALLS_LOG), 'utf8'));
  } catch {
    return [];
  }
}

/**
 * What each tool costs on a real Proxmox VE host before it does anything: perl
 * compiling the PVE libraries the program `use`s (pve-container's PVE::CLI::pct
 * pulls in PVE::LXC, PVE::Storage with every storage plugin, PVE::Cluster,
 * PVE::API2::LXC…). docs/BENCHMARKS.md says where the figures come from.
 */
export const PVE_TOOL_LATENCY_MS: Record<PveTool, number> = {
  pct: 400,
  qm: 400,
  pvesm: 450,
  pvenode: 400,
  pveversion: 250,
  pvecm: 350,
  pvesh: 600,
};

/** `pve` (the table above), `off`, or `tool=ms,…` (e.g. `pct=400,pvesm=450`). */
export function parseToolLatency(spec: string): Record<string, number> {
  if (spec === 'pve') return { ...PVE_TOOL_LATENCY_MS };
  if (spec === 'off' || spec === 'none' || spec === '0') return {};
  const table: Record<string, number> = {};
  for (const part of spec.split(',')) {
    const m = /^([a-z]+)=(\d+)$/.exec(part.trim());
    if (!m || !isPveTool(m[1]))
      throw new Error(
        `--tool-latency: expected 'pve', 'off' or tool=milliseconds,… with a tool among ${PVE_TOOLS.join(', ')}; got '${part}'`,
      );
    table[m[1]] = Number(m[2]);
  }
  return table;
}
