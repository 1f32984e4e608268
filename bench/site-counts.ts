// What one site.yml run cost each lab host: the Proxmox CLI programs it started
// (from the host's own log, lab/sim/tool-calls.ts) and the SSH round trips
// (phx-play -vv prints one "<host> EXEC …" line per command sent).
import { pveToolCalls } from '../lab/sim/tool-calls.js';

/** `pct exec`, `qm guest exec`: the guest's state, only the guest can tell. */
export const isGuestExec = (call: string[]) =>
  (call[0] === 'pct' && call[1] === 'exec') || (call[0] === 'qm' && call[1] === 'guest' && call[2] === 'exec');

export interface ToolCallCount {
  /** Proxmox CLI programs (lab/sim/tool-calls.ts PVE_TOOLS) */
  total: number;
  /** lxc-attach runs (a C program, no Proxmox CLI call): commands of `ansible_connection: pct` hosts */
  lxcAttach: number;
  /** into a guest (pct exec, qm guest exec) */
  guestExec: number;
  /** by program and subcommand, e.g. `pct status` → 11 */
  bySubcommand: Record<string, number>;
}

export function countToolCalls(calls: string[][]): ToolCallCount {
  const by: Record<string, number> = {};
  let guestExec = 0;
  const lxcAttach = calls.filter((c) => c[0] === 'lxc-attach').length;
  const pve = pveToolCalls(calls);
  for (const c of pve) {
    const name = isGuestExec(c) ? c.slice(0, c[0] === 'qm' ? 3 : 2).join(' ') : c.slice(0, 2).join(' ');
    by[name] = (by[name] ?? 0) + 1;
    if (isGuestExec(c)) guestExec++;
  }
  return { total: pve.length, lxcAttach, guestExec, bySubcommand: by };
}

export interface RoundTrips {
  /** commands sent to this host */
  execs: number;
  /** task results (a loop's items each count; skipped ones do not) */
  results: number;
  /** the most commands any one result needed */
  maxPerResult: number;
}

// eslint-disable-next-line no-control-regex -- ESC is what this pattern looks for
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Round trips of one host from `phx-play -vv` output: EXEC lines between the
 * host's result lines (`ok: [host]`, `changed: [host] => (item=…)`…) belong to
 * the next result. A loop's summary line (after its items) needs no command.
 */
export function roundTripsOf(output: string, host: string): RoundTrips {
  const esc = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const exec = new RegExp(`^<${esc}> EXEC `);
  const result = new RegExp(`^(ok|changed|failed|fatal): \\[${esc}\\]`);
  let pending = 0;
  const r: RoundTrips = { execs: 0, results: 0, maxPerResult: 0 };
  for (const line of plain(output).split('\n')) {
    if (exec.test(line)) {
      r.execs++;
      pending++;
    } else if (result.test(line)) {
      r.results++;
      r.maxPerResult = Math.max(r.maxPerResult, pending);
      pending = 0;
    }
  }
  return r;
}
