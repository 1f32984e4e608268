// `npm run lab -- up [N] [--cluster] | down | status | reset <host> | fault <host> <name> <value>`
// The lab lives in <repo>/.lab (or --dir); `up` also writes inventory/lab.yml.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, openLab, labStatus, labClusterOf, GENERATED_MARK, type LabFaults } from './index.js';
import { PACKAGE_ROOT } from './hostfs.js';
import { clusterPveDir } from './cluster.js';
import { parseToolLatency } from './sim/tool-calls.js';

const FAULT_NAMES: Record<string, keyof LabFaults> = {
  nfs: 'nfsDelaySeconds',
  nfsDelaySeconds: 'nfsDelaySeconds',
  agent: 'guestAgentDelaySeconds',
  guestAgentDelaySeconds: 'guestAgentDelaySeconds',
  lock: 'createLockSeconds',
  createLockSeconds: 'createLockSeconds',
  'shutdown-hang': 'shutdownHang',
  shutdownHang: 'shutdownHang',
  refuse: 'refuseConnections',
  refuseConnections: 'refuseConnections',
};

function usage(): never {
  process.stderr.write(
    'usage: npm run lab -- up [N] [--base-port P] [--cluster] [--tool-latency pve|off|pct=400,…] | down | status | reset <host> | fault <host> <nfs|agent|lock|shutdown-hang|refuse> <value>  [--dir DIR]\n',
  );
  process.exit(1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let dir = join(PACKAGE_ROOT, '.lab');
  let basePort: number | undefined;
  let cluster: boolean | undefined;
  let toolLatency: Record<string, number> | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dir') dir = args[++i];
    else if (args[i] === '--cluster') cluster = true;
    else if (args[i] === '--base-port') basePort = Number(args[++i]);
    else if (args[i] === '--tool-latency') toolLatency = parseToolLatency(args[++i] ?? '');
    else rest.push(args[i]);
  }
  const [cmd, ...params] = rest;
  switch (cmd) {
    case 'up': {
      const existing = labStatus(dir);
      const n = params[0] ? Number(params[0]) : existing.length || 3;
      if (!Number.isInteger(n) || n < 1) usage();
      // ports stay where they were: host i on base+i (22201… by default)
      const base = basePort ?? (existing.length ? existing[0].port - 1 : 22200);
      const lab = await startLab({ dir, hosts: n, basePort: base, persistent: true, cluster, toolLatency });
      printStatus(dir);
      process.stdout.write(`inventory: ${writeRepoInventory(lab.inventoryFile)}\n`);
      break;
    }
    case 'down': {
      if (labStatus(dir).length === 0) break;
      const lab = await openLab({ dir });
      await lab.stop();
      printStatus(dir);
      break;
    }
    case 'status':
      printStatus(dir);
      break;
    case 'reset': {
      if (!params[0]) usage();
      const lab = await openLab({ dir, persistent: true });
      await lab.reset(params[0]);
      printStatus(dir);
      break;
    }
    case 'fault': {
      const [host, name, value] = params;
      const key = FAULT_NAMES[name ?? ''];
      if (!host || !key || value === undefined) usage();
      const lab = await openLab({ dir, persistent: true });
      const h = lab.hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no lab host named '${host}'`);
      let faults: LabFaults = {};
      try {
        faults = JSON.parse(readFileSync(join(h.root, 'var/lib/phx-lab/faults.json'), 'utf8')) as LabFaults;
      } catch {
        /* none yet */
      }
      if (key === 'refuseConnections') faults.refuseConnections = /^(1|true|yes|on)$/i.test(value);
      else faults[key] = Number(value);
      await lab.setFaults(host, faults);
      process.stdout.write(`${host}: ${JSON.stringify(faults)}\n`);
      break;
    }
    default:
      usage();
  }
}

/** inventory/lab.yml is the lab's generated file; one written by hand is left alone. */
function writeRepoInventory(generated: string): string {
  const target = join(PACKAGE_ROOT, 'inventory/lab.yml');
  let current: string | null = null;
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    /* not there yet */
  }
  if (current !== null && !current.startsWith(GENERATED_MARK)) {
    process.stderr.write(
      `lab: ${target} was not written by the lab; leaving it alone (generated inventory: ${generated})\n`,
    );
    return generated;
  }
  mkdirSync(join(PACKAGE_ROOT, 'inventory'), { recursive: true });
  copyFileSync(generated, target);
  return target;
}

function printStatus(dir: string): void {
  const rows = labStatus(dir);
  if (rows.length === 0) process.stdout.write(`no lab in ${dir}\n`);
  for (const r of rows)
    process.stdout.write(`${r.name}\t127.0.0.1:${r.port}\tpid ${r.pid ?? '-'}\t${r.up ? 'up' : 'down'}\n`);
  const cluster = labClusterOf(dir);
  if (cluster) {
    // one vote per member; quorum as votequorum counts it (expected/2 + 1)
    const online = cluster.nodes.filter((n) => rows.some((r) => r.name === n && r.up));
    const quorate = online.length >= Math.floor(cluster.nodes.length / 2) + 1;
    process.stdout.write(
      `cluster ${cluster.name}: ${cluster.nodes.join(', ')} (${online.length}/${cluster.nodes.length} online, ${quorate ? 'quorate' : 'NOT quorate'}); shared /etc/pve: ${clusterPveDir(dir)}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`lab: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
