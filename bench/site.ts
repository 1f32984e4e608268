// `npm run bench -- --site`: playbooks/site.yml twice (first run, then converged)
// on N lab hosts, with and without the real tools' latency
// (lab/sim/tool-calls.ts), and per host the Proxmox CLI programs started and
// the SSH round trips of each run. Every lab is stopped at the end.
import { cpSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { startLab, type Lab } from '../lab/index.js';
import { readToolCalls, PVE_TOOL_LATENCY_MS } from '../lab/sim/tool-calls.js';
import { measure } from './measure.js';
import { countToolCalls, roundTripsOf, type RoundTrips, type ToolCallCount } from './site-counts.js';
import { fmtS, table } from './stats.js';

export interface SiteOptions {
  hostCounts: number[];
  /** 'off': the simulator's own speed; 'pve': each Proxmox tool costs what the real one does */
  latencies: Array<'off' | 'pve'>;
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
  rc: number;
  wallMs: number;
  changed: boolean;
  perHost: HostRun[];
  load: number;
}

/** Runs site.yml twice on a fresh lab of k hosts; `register` lets the caller stop the lab on Ctrl-C. */
async function siteOnLab(
  root: string,
  workDir: string,
  k: number,
  latency: 'off' | 'pve',
  register: (stop: () => Promise<void>) => void,
  log: (s: string) => void,
): Promise<SiteRun[]> {
  const lab: Lab = await startLab({
    dir: join(workDir, `site-${k}-${latency}`),
    hosts: k,
    toolLatency: latency === 'pve' ? PVE_TOOL_LATENCY_MS : {},
  });
  register(() => lab.stop());
  try {
    cpSync(join(root, 'inventory/group_vars'), join(dirname(lab.inventoryFile), 'group_vars'), { recursive: true });
    const out: SiteRun[] = [];
    for (const run of ['first', 'converged'] as const) {
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
      out.push({ hosts: k, latency, run, rc: m.rc, wallMs: m.wallMs, changed, perHost, load });
      log(
        `  site.yml ${k} host(s), latency ${latency}, ${run} run: rc ${m.rc}, ${fmtS(m.wallMs)}, Proxmox CLI per host ${perHost.map((p) => p.calls.total).join('/')}, lxc-attach per host ${perHost.map((p) => p.calls.lxcAttach).join('/')}, round trips per host ${perHost.map((p) => p.roundTrips.execs).join('/')}`,
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
  for (const k of o.hostCounts)
    for (const latency of o.latencies) runs.push(...(await siteOnLab(root, workDir, k, latency, register, log)));
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
    `Each row is one run of playbooks/site.yml (\`-f\` = hosts, \`-vv\`) on a fresh lab; "converged" is the second run.`,
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
        r.run,
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
    const off = runs.find((r) => r.hosts === k && r.latency === 'off' && r.run === 'converged');
    const pve = runs.find((r) => r.hosts === k && r.latency === 'pve' && r.run === 'converged');
    if (off && pve)
      ratios.push(
        `${k} host(s): converged run ${fmtS(pve.wallMs)} with the real tools' latency, ${fmtS(off.wallMs)} without (${(pve.wallMs / off.wallMs).toFixed(2)}×)`,
      );
  }
  if (ratios.length) lines.push('', ...ratios.map((r) => `- ${r}`));
  lines.push('', `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); one run each.`);
  return lines;
}
