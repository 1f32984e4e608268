// `npm run bench -- --site`: playbooks/site.yml on N lab hosts, a first run and
// then converged runs with and without the real tools' latency
// (lab/sim/tool-calls.ts), alternating on the same lab so that each pair of runs
// is made back to back; per host the Proxmox CLI programs started and the SSH
// round trips of each run. Every lab is stopped at the end.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, type Lab } from '../lab/index.js';
import { readToolCalls, toolLatencyFile, PVE_TOOL_LATENCY_MS } from '../lab/sim/tool-calls.js';
import { measure } from './measure.js';
import { countToolCalls, roundTripsOf, type RoundTrips, type ToolCallCount } from './site-counts.js';
import { fmtS, median, table } from './stats.js';

export interface SiteOptions {
  hostCounts: number[];
  /** 'off': the simulator's own speed; 'pve': each Proxmox tool costs what the real one does */
  latencies: Array<'off' | 'pve'>;
  /** converged runs per latency (default 1) */
  reps?: number;
}

interface HostRun {
  host: string;
  calls: ToolCallCount;
  roundTrips: RoundTrips;
}

export interface SiteRun {
  hosts: number;
  latency: 'off' | 'pve';
  run: 'first' | 'converged';
  /** the converged run's repetition (first runs: 0) */
  rep: number;
  rc: number;
  wallMs: number;
  changed: boolean;
  perHost: HostRun[];
  load: number;
}

/**
 * site.yml on a fresh lab of k hosts: a first run (without the tools' latency: the counts do not
 * depend on it), then `reps` rounds of one converged run per latency, the latency switched through
 * the lab's tool-latency.json between runs. `register` lets the caller stop the lab on Ctrl-C.
 */
async function siteOnLab(
  root: string,
  workDir: string,
  k: number,
  o: SiteOptions,
  register: (stop: () => Promise<void>) => void,
  log: (s: string) => void,
): Promise<SiteRun[]> {
  const dir = join(workDir, `site-${k}`);
  const lab: Lab = await startLab({ dir, hosts: k, toolLatency: {} });
  register(() => lab.stop());
  const setLatency = (latency: 'off' | 'pve') => {
    if (latency === 'off') rmSync(toolLatencyFile(dir), { force: true });
    else writeFileSync(toolLatencyFile(dir), JSON.stringify(PVE_TOOL_LATENCY_MS) + '\n');
  };
  try {
    cpSync(join(root, 'inventory/group_vars'), join(dirname(lab.inventoryFile), 'group_vars'), { recursive: true });
    const out: SiteRun[] = [];
    const plan: Array<{ run: 'first' | 'converged'; rep: number; latency: 'off' | 'pve' }> = [
      { run: 'first', rep: 0, latency: 'off' },
    ];
    for (let rep = 1; rep <= (o.reps ?? 1); rep++)
      for (const latency of o.latencies) plan.push({ run: 'converged', rep, latency });
    for (const { run, rep, latency } of plan) {
      setLatency(latency);
      const before = lab.hosts.map((h) => readToolCalls(h.root).length);
      const load = loadavg()[0];
      const argv = [process.execPath, join(root, 'bin/phx-play.js'), '-i', lab.inventoryFile, '-f', String(k), '-vv'];
      const m = await measure([...argv, join(root, 'playbooks/site.yml')], {
        env: { NO_COLOR: '1', CI: '1' },
        timeoutMs: 1_800_000,
      });
      const text = m.stdout + m.stderr;
      const perHost = lab.hosts.map((h, i) => ({
        host: h.name,
        calls: countToolCalls(readToolCalls(h.root).slice(before[i])),
        roundTrips: roundTripsOf(text, h.name),
      }));
      const changed = /^\S+\s+:.*changed=[1-9]/m.test(text);
      out.push({ hosts: k, latency, run, rep, rc: m.rc, wallMs: m.wallMs, changed, perHost, load });
      log(
        `  site.yml ${k} host(s), latency ${latency}, ${run} run${rep ? ` ${rep}` : ''}: rc ${m.rc}, ${fmtS(m.wallMs)}, load ${load.toFixed(1)}, Proxmox CLI per host ${perHost.map((p) => p.calls.total).join('/')}, lxc-attach per host ${perHost.map((p) => p.calls.lxcAttach).join('/')}, round trips per host ${perHost.map((p) => p.roundTrips.execs).join('/')}`,
      );
      if (m.rc !== 0) break;
    }
    return out;
  } finally {
    await lab.stop();
  }
}

export async function benchSite(
  root: string,
  workDir: string,
  o: SiteOptions,
  register: (stop: () => Promise<void>) => void,
  log: (s: string) => void,
): Promise<{ runs: SiteRun[]; report: string[] }> {
  const runs: SiteRun[] = [];
  for (const k of o.hostCounts) runs.push(...(await siteOnLab(root, workDir, k, o, register, log)));
  return { runs, report: siteReport(runs) };
}

const spread = (xs: number[]) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
};

export function siteReport(runs: SiteRun[]): string[] {
  const lines = [
    `## site.yml on lab hosts: Proxmox CLI programs and round trips per host`,
    '',
    `Each row is one run of playbooks/site.yml (\`-f\` = hosts, \`-vv\`); per host count one fresh lab: the first run, then`,
    `converged runs alternating without and with the real tools' latency (switched between runs), so each pair is back to back.`,
    `Proxmox CLI: the programs (${'pct, pvesm, qm, pvenode, pveversion, pvecm, pvesh'}) each host started, from the host's log;`,
    `"into guests" are \`pct exec\`/\`qm guest exec\` (what only the guest can tell, or the playbook's own commands).`,
    `Round trips: commands phx-play sent the host; "max per result" is the most any one task result (a loop item counts) needed.`,
    '',
  ];
  lines.push(
    ...table(
      [
        'hosts',
        'tool latency',
        'run',
        'rc',
        'wall',
        'Proxmox CLI per host',
        'of them into guests',
        'lxc-attach per host (no Proxmox CLI)',
        'round trips per host',
        'task results per host',
        'max per result',
        'load at start',
      ],
      runs.map((r) => [
        String(r.hosts),
        r.latency,
        r.run === 'first' ? 'first' : `converged ${r.rep}`,
        String(r.rc),
        fmtS(r.wallMs),
        spread(r.perHost.map((p) => p.calls.total)),
        spread(r.perHost.map((p) => p.calls.guestExec)),
        spread(r.perHost.map((p) => p.calls.lxcAttach)),
        spread(r.perHost.map((p) => p.roundTrips.execs)),
        spread(r.perHost.map((p) => p.roundTrips.results)),
        spread(r.perHost.map((p) => p.roundTrips.maxPerResult)),
        r.load.toFixed(1),
      ]),
    ),
  );
  const first = runs.find((r) => r.run === 'converged');
  if (first) {
    const by = first.perHost[0].calls.bySubcommand;
    lines.push(
      '',
      `Converged run, ${first.perHost[0].host}: ${
        Object.entries(by)
          .map(([k, v]) => `${v} × \`${k}\``)
          .join(', ') || 'no Proxmox CLI program'
      }.`,
    );
  }
  const ratios: string[] = [];
  for (const k of [...new Set(runs.map((r) => r.hosts))]) {
    const converged = (latency: 'off' | 'pve') =>
      runs.filter((r) => r.hosts === k && r.latency === latency && r.run === 'converged' && r.rc === 0);
    const off = converged('off');
    const pve = converged('pve');
    const pairs = pve.flatMap((p) => {
      const o = off.find((x) => x.rep === p.rep);
      return o ? [p.wallMs / o.wallMs] : [];
    });
    if (pairs.length > 0)
      ratios.push(
        `${k} host(s): converged run ${fmtS(median(pve.map((r) => r.wallMs)))} with the real tools' latency, ${fmtS(median(off.map((r) => r.wallMs)))} without (medians of ${pve.length} and ${off.length}); ratio of each back-to-back pair ${pairs.map((x) => `${x.toFixed(2)}×`).join(', ')}, median ${median(pairs).toFixed(2)}×`,
      );
  }
  if (ratios.length) lines.push('', ...ratios.map((r) => `- ${r}`));
  lines.push(
    '',
    `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average at the start of each run in the table.`,
  );
  return lines;
}
