// `npm run bench`: phx-play against ansible-playbook (and pyinfra 3.x when one is
// installed) on the same sshd hosts and the same 20-task workload, phx-play
// alone at fleet scale, and start-up times.
// Prints a Markdown report (docs/BENCHMARKS.md is made from it) and writes the
// raw figures as JSON. Everything it starts is stopped, also on Ctrl-C.
import { cpSync, mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { stopAllSshd } from '../lab/sshd.js';
import { startBenchHosts, type BenchHosts } from './hosts.js';
import { measure, killCurrent, type Measured } from './measure.js';
import { parseRecap, totals } from './recap.js';
import { snapshot, compareTrees } from './tree.js';
import {
  ANSIBLE_SETUPS,
  closeControlMasters,
  ensureAnsible,
  writeAnsibleConfig,
  type AnsibleSetup,
} from './ansible.js';
import { DEBUG_SSHD_PREFIX, execsPerTask, sshdChannelRequests, type TaskRoundTrips } from './roundtrips.js';
import { summarizeProfile, type HotSpot } from './profile.js';
import { findPyinfra, pyinfraArgv, pyinfraTotals, writePyinfraInventory, type Pyinfra } from './pyinfra.js';
import { median, fmtS, fmtMb, fmtX, table } from './stats.js';
import { benchSite, type SiteOptions } from './site.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PHX = join(ROOT, 'bin/phx-play.js');
const WORKLOAD = join(ROOT, 'bench/workload/workload.yml');
const PYINFRA_DEPLOY = join(ROOT, 'bench/workload/deploy.py');
const SITE = join(ROOT, 'playbooks/site.yml');

// ---- options ------------------------------------------------------------------

interface Options {
  reps: number;
  hostCounts: number[];
  scaleCounts: number[];
  /** lab hosts for site.yml; default: the scale counts up to 50 (each lab host is a dozen processes) */
  siteScaleCounts: number[];
  /** round trips per task (1 host, sshd at DEBUG1) */
  roundTrips: boolean;
  ansible: boolean;
  ansibleDefaults: boolean;
  /** pyinfra 3.x on the same hosts and workload, when installed (bench/pyinfra.ts) */
  pyinfra: boolean;
  scale: boolean;
  startup: boolean;
  profile: boolean;
  keep: boolean;
  jsonOut?: string;
  mdOut?: string;
  /** only site.yml twice on lab hosts, counting Proxmox CLI programs and round trips (bench/site.ts) */
  site?: SiteOptions;
}

const HELP = `npm run bench [-- options]
  --quick             1 repetition (default 3)
  --reps N            repetitions of every measurement
  --hosts 1,10        host counts for phx-play vs ansible-playbook
  --scale 1,10,50,100 host counts for phx-play alone: the workload on sshd hosts, first and second runs
  --site-scale LIST   lab host counts for site.yml at scale (default: the --scale counts up to 50)
  --no-site-scale     no site.yml at scale      --no-roundtrips        skip the round-trip count
  --no-ansible        skip the comparison      --no-ansible-defaults  only Ansible's fast setup
  --no-pyinfra        skip pyinfra (measured when PYINFRA=/path/to/pyinfra or pyinfra on PATH is 3.x)
  --no-scale          skip fleet scale          --no-startup           skip start-up timings
  --no-profile        no --cpu-prof run at the largest scale
  --json FILE         raw figures as JSON       --md FILE             the report as Markdown
  --site              only site.yml on lab hosts: a first run, then --reps converged runs per latency
                      (alternating); Proxmox CLI programs and round trips per host
  --site-hosts 3      lab host counts for --site (default 3)
  --site-latency L    off,pve (default both): without / with the real Proxmox tools' latency
  --keep              keep the work directory`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    reps: 3,
    hostCounts: [1, 10],
    scaleCounts: [1, 10, 50, 100],
    siteScaleCounts: [],
    roundTrips: true,
    ansible: true,
    ansibleDefaults: true,
    pyinfra: true,
    scale: true,
    startup: true,
    profile: true,
    keep: false,
  };
  let siteScale = true;
  const list = (v: string | undefined) => {
    const xs = (v ?? '').split(',').map(Number);
    if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1))
      throw new Error(`bench: expected a list of host counts like 1,10, got '${v}'`);
    return xs;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.reps = 1;
    else if (a === '--reps') o.reps = list(argv[++i])[0];
    else if (a === '--hosts') o.hostCounts = list(argv[++i]);
    else if (a === '--scale') o.scaleCounts = list(argv[++i]);
    else if (a === '--site-scale') o.siteScaleCounts = list(argv[++i]);
    else if (a === '--no-site-scale') siteScale = false;
    else if (a === '--no-roundtrips') o.roundTrips = false;
    else if (a === '--no-ansible') o.ansible = false;
    else if (a === '--no-ansible-defaults') o.ansibleDefaults = false;
    else if (a === '--no-pyinfra') o.pyinfra = false;
    else if (a === '--no-scale') o.scale = false;
    else if (a === '--no-startup') o.startup = false;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--keep') o.keep = true;
    else if (a === '--json') o.jsonOut = argv[++i];
    else if (a === '--md') o.mdOut = argv[++i];
    else if (a === '--site')
      o.site = { hostCounts: o.site?.hostCounts ?? [3], latencies: o.site?.latencies ?? ['off', 'pve'] };
    else if (a === '--site-hosts') o.site = { latencies: ['off', 'pve'], ...o.site, hostCounts: list(argv[++i]) };
    else if (a === '--site-latency') {
      const ls = (argv[++i] ?? '').split(',');
      if (ls.some((l) => l !== 'off' && l !== 'pve'))
        throw new Error(`bench: --site-latency takes off,pve; got '${ls.join(',')}'`);
      o.site = { hostCounts: [3], ...o.site, latencies: ls as Array<'off' | 'pve'> };
    } else if (a === '-h' || a === '--help') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`bench: unknown option ${a}\n${HELP}`);
  }
  if (!siteScale) o.siteScaleCounts = [];
  else if (o.siteScaleCounts.length === 0) o.siteScaleCounts = o.scaleCounts.filter((k) => k <= 50);
  return o;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

// ---- cleanup: every process the bench starts ---------------------------------

const cleanups: Array<() => Promise<void> | void> = [];
let workDir = '';
let keepWorkDir = false;

async function cleanupAll(): Promise<void> {
  killCurrent();
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (e) {
      log(`bench: cleanup: ${(e as Error).message}`);
    }
  }
  await stopAllSshd();
  if (workDir && !keepWorkDir) rmSync(workDir, { recursive: true, force: true });
}

let stopping = false;
/** the pyinfra measured, when one is installed and not --no-pyinfra */
let pyinfra: Pyinfra | undefined;

function onSignal(signal: NodeJS.Signals): void {
  stopping = true;
  log(`\nbench: ${signal}: stopping everything it started`);
  void cleanupAll().finally(() => process.exit(130));
}

// ---- the tools ------------------------------------------------------------------

type Tool = 'phx-play' | `ansible-${AnsibleSetup}` | 'pyinfra';
type Phase = 'first' | 'second' | 'check';
const PHASES: Phase[] = ['first', 'second', 'check'];

interface RunRecord {
  tool: Tool;
  hosts: number;
  phase: Phase;
  rep: number;
  wallMs: number;
  peakTreeRssKb: number;
  maxRssKb?: number;
  changed: number;
  failed: number;
  rc: number;
  /** 1-minute load average when the run started: other work on the machine skews every figure */
  load: number;
  /** CPU seconds of the tool's process tree (GNU time), and of the rest of the machine (restOfMachineCpuS) */
  cpuS?: number;
  hostCpuS?: number;
}

function phxArgv(inventory: string, playbook: string, hosts: number, extra: string[]): string[] {
  return [process.execPath, PHX, '-i', inventory, '-f', String(hosts), playbook, ...extra];
}

const PHX_ENV = { NO_COLOR: '1', CI: '1' };

/** The text without ANSI colour sequences (ESC [ … m): matching the escape character is the point. */
// eslint-disable-next-line no-control-regex -- ESC is what this pattern looks for
const withoutColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

// ---- part 1: phx-play vs ansible-playbook -------------------------------------

interface CompareResult {
  hosts: number;
  runs: RunRecord[];
  checks: string[];
}

async function compare(o: Options, tools: Tool[], k: number): Promise<CompareResult> {
  const dir = join(workDir, `compare-${k}`);
  log(`\n== ${k} host(s): starting sshd`);
  const hosts = await startBenchHosts({ dir: join(dir, 'hosts'), count: k });
  cleanups.push(() => hosts.stop());
  const base = (t: Tool) => join(dir, 'targets', t);
  const configs = new Map<Tool, ReturnType<typeof writeAnsibleConfig>>();
  const pyinfraInventory = join(dir, 'pyinfra-inventory.py');
  if (pyinfra && tools.includes('pyinfra')) writePyinfraInventory(hosts, pyinfraInventory);
  for (const t of tools)
    if (t.startsWith('ansible-')) {
      const cfg = writeAnsibleConfig(join(dir, 'ansible'), t.slice('ansible-'.length) as AnsibleSetup, {
        inventoryFile: hosts.inventoryFile,
        knownHostsFile: hosts.knownHostsFile,
        forks: k,
      });
      configs.set(t, cfg);
      cleanups.push(() => closeControlMasters(cfg.controlDir));
    }

  const runTool = async (t: Tool, phase: Phase, rep: number): Promise<RunRecord> => {
    const load = loadavg()[0];
    const busy0 = machineBusyS();
    const extra = ['-e', `bench_base=${base(t)}`, ...(phase === 'check' ? ['--check'] : [])];
    let m: Measured;
    if (t === 'phx-play')
      m = await measure(phxArgv(hosts.inventoryFile, WORKLOAD, k, extra), { env: PHX_ENV, timeoutMs: 600_000 });
    else if (t === 'pyinfra') {
      const argv = pyinfraArgv(pyinfra!, {
        inventory: pyinfraInventory,
        deploy: PYINFRA_DEPLOY,
        base: base(t),
        hosts: k,
        check: phase === 'check',
      });
      m = await measure(argv, { env: { NO_COLOR: '1' }, timeoutMs: 900_000 });
    } else {
      const cfg = configs.get(t)!;
      m = await measure(['ansible-playbook', WORKLOAD, ...extra], {
        env: { ANSIBLE_CONFIG: cfg.file, ANSIBLE_NOCOLOR: '1' },
        timeoutMs: 900_000,
      });
      closeControlMasters(cfg.controlDir);
    }
    await new Promise((r) => setTimeout(r, 300)); // the hosts' sessions end
    // what a tool leaves running on the hosts is its own work, and not the next run's burden
    const settledMs = await settle();
    const hostCpuS = restOfMachineCpuS(busy0, m.cpuS);
    const recap =
      t === 'pyinfra'
        ? pyinfraTotals(m.stdout + m.stderr, phase === 'check', hosts.names)
        : totals(parseRecap(m.stdout + m.stderr), hosts.names);
    if (m.rc !== 0 || !recap.complete || recap.failed > 0 || recap.unreachable > 0) {
      throw new Error(`${t} ${phase} run on ${k} host(s) failed (rc ${m.rc}):\n${(m.stdout + m.stderr).slice(-3000)}`);
    }
    log(
      `  rep ${rep} ${phase.padEnd(6)} ${t.padEnd(16)} ${fmtS(m.wallMs).padStart(7)}  changed=${recap.changed}  peak ${fmtMb(m.maxRssKb ?? m.peakTreeRssKb)}  CPU ${m.cpuS?.toFixed(2) ?? '?'} + ${hostCpuS.toFixed(2)} s  load ${load.toFixed(1)}${settledMs > 50 ? `  (machine idle ${fmtS(settledMs)} after the run)` : ''}`,
    );
    return {
      tool: t,
      hosts: k,
      phase,
      rep,
      wallMs: m.wallMs,
      peakTreeRssKb: m.peakTreeRssKb,
      maxRssKb: m.maxRssKb,
      changed: recap.changed,
      failed: recap.failed,
      rc: m.rc,
      load,
      cpuS: m.cpuS,
      hostCpuS,
    };
  };

  const runs: RunRecord[] = [];
  const checks: string[] = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const t of tools) rmSync(base(t), { recursive: true, force: true });
    for (const t of tools) mkdirSync(base(t), { recursive: true });
    // phases interleaved by tool, so each ratio compares runs made moments apart
    for (const phase of PHASES) for (const t of tools) runs.push(await runTool(t, phase, rep));
    if (rep === 1) checks.push(...verify(tools, runs, hosts, base));
  }
  await hosts.stop();
  return { hosts: k, runs, checks };
}

/** Same end state for every tool, same changes counted, and a second run with changed=0. */
function verify(tools: Tool[], runs: RunRecord[], hosts: BenchHosts, base: (t: Tool) => string): string[] {
  const out: string[] = [];
  const first = (t: Tool, p: Phase) => runs.find((r) => r.tool === t && r.phase === p && r.rep === 1)!;
  for (const t of tools) {
    const second = first(t, 'second');
    if (second.changed !== 0) throw new Error(`${t}: second run reported changed=${second.changed}, expected 0`);
    if (first(t, 'check').changed !== 0)
      throw new Error(`${t}: --check after convergence reported changed=${first(t, 'check').changed}`);
    out.push(
      `${t}: first run changed=${first(t, 'first').changed}, second run changed=0, --check changed=0 on ${hosts.names.length} host(s)`,
    );
  }
  const ref = tools[0];
  for (const t of tools.slice(1)) {
    if (first(t, 'first').changed !== first(ref, 'first').changed)
      throw new Error(
        `first run: ${ref} changed=${first(ref, 'first').changed} but ${t} changed=${first(t, 'first').changed}`,
      );
    for (const h of hosts.names) {
      const diffs = compareTrees(snapshot(join(base(ref), h)), snapshot(join(base(t), h)), ref, t);
      if (diffs.length > 0)
        throw new Error(`end state differs on ${h} between ${ref} and ${t}:\n  ${diffs.join('\n  ')}`);
    }
    out.push(
      `${t}: same end state as ${ref} on every host (type, mode, owner, group, content, link target of ${snapshot(join(base(ref), hosts.names[0])).size} paths per host)`,
    );
  }
  return out;
}

/**
 * CPU seconds per run: the controller (its whole process tree) and the hosts
 * (their sshd and the commands they ran). All share this machine's 2 CPUs with
 * whatever else runs, so these move less with the load than wall times do.
 */
function cpuTable(results: CompareResult[], tools: Tool[]): string[] {
  const rows: string[][] = [];
  for (const r of results)
    for (const phase of PHASES)
      rows.push([
        String(r.hosts),
        phase,
        ...tools.map((t) => {
          const rs = r.runs.filter((x) => x.tool === t && x.phase === phase);
          const ctl = median(rs.map((x) => x.cpuS ?? NaN));
          const host = median(rs.map((x) => x.hostCpuS ?? NaN));
          return `${ctl.toFixed(2)} + ${host.toFixed(2)} s`;
        }),
      ]);
  return [
    '',
    "CPU per run (median): the controller's process tree (GNU time %U + %S) + the rest of the machine during the run (/proc/stat busy time minus the controller's: the hosts' sshd, shells and commands, the kernel's loopback network work):",
    '',
    ...table(['hosts', 'run', ...tools], rows),
  ];
}

// ---- round trips ----------------------------------------------------------------

interface RoundTripResult {
  first: TaskRoundTrips[];
  second: TaskRoundTrips[];
  check: TaskRoundTrips[];
  sshd: Record<Phase, { exec: number; subsystem: number; sessions: number }>;
}

function workloadModules(): (task: string) => string {
  const plays = parseYaml(readFileSync(WORKLOAD, 'utf8')) as Array<{ tasks: Array<Record<string, unknown>> }>;
  const keywords = new Set([
    'name',
    'register',
    'when',
    'changed_when',
    'failed_when',
    'args',
    'vars',
    'tags',
    'loop',
    'notify',
  ]);
  const map = new Map<string, string>();
  for (const t of plays[0].tasks) map.set(String(t.name), Object.keys(t).find((k) => !keywords.has(k)) ?? '?');
  return (task) => map.get(task) ?? '?';
}

async function roundTrips(): Promise<RoundTripResult> {
  const dir = join(workDir, 'roundtrips');
  log('\n== round trips: 1 host, sshd at LogLevel DEBUG1, phx-play -vv');
  const hosts = await startBenchHosts({ dir: join(dir, 'hosts'), count: 1, launchPrefix: DEBUG_SSHD_PREFIX });
  cleanups.push(() => hosts.stop());
  const sshdLog = join(hosts.handles[0].dir, 'sshd.log');
  const moduleOf = workloadModules();
  const result: Partial<RoundTripResult> = { sshd: {} as RoundTripResult['sshd'] };
  for (const phase of PHASES) {
    writeFileSync(sshdLog, '');
    const m = await measure(
      phxArgv(hosts.inventoryFile, WORKLOAD, 1, [
        '-vv',
        '-e',
        `bench_base=${join(dir, 'targets')}`,
        ...(phase === 'check' ? ['--check'] : []),
      ]),
      { env: PHX_ENV },
    );
    if (m.rc !== 0) throw new Error(`phx-play -vv ${phase} run failed:\n${(m.stdout + m.stderr).slice(-3000)}`);
    result[phase] = execsPerTask(m.stdout + m.stderr, moduleOf);
    // session children write their last log lines as they exit: give them a moment
    await new Promise((r) => setTimeout(r, 300));
    result.sshd![phase] = sshdChannelRequests(sshdLog);
    const total = result[phase].reduce((s, t) => s + t.execs, 0);
    log(
      `  ${phase}: ${total} EXEC lines, sshd saw ${result.sshd![phase].exec} exec + ${result.sshd![phase].subsystem} subsystem channels over ${result.sshd![phase].sessions} connection(s)`,
    );
  }
  await hosts.stop();
  return result as RoundTripResult;
}

// ---- part 2: phx-play at fleet scale --------------------------------------------

interface ScaleRecord {
  what: 'site.yml on lab hosts' | 'workload on sshd hosts';
  hosts: number;
  tasks: number;
  startMs: number;
  /** first runs (everything to do): the workload's targets are emptied before each; site.yml's one converging run */
  firstWallMs: number[];
  firstMaxRssKb: number[];
  /** second runs (everything already in place) */
  wallMs: number[];
  /** GNU time %M: the phx-play process's own peak RSS (ru_maxrss) */
  maxRssKb: number[];
  /** CPU seconds of phx-play itself per run */
  controllerCpuS: number[];
  /** CPU seconds of the rest of the machine per run (restOfMachineCpuS); all hosts share this machine's CPUs */
  hostCpuS: number[];
  changed: number;
  note?: string;
}

/** CPU seconds the whole machine has been busy (user, nice, system, irq, softirq) since boot, from /proc/stat. */
function machineBusyS(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) / 100; // USER_HZ
}

/**
 * Waits until the machine is idle (at most one clock tick of CPU, 10 ms, in a 100 ms window; at
 * most 5 s), so that each run starts on a quiet machine whatever ran before it. Returns how long
 * it waited beyond the first window (0 when the machine was already idle).
 */
async function settle(): Promise<number> {
  const start = Date.now();
  for (let waited = 0; waited < 5000; waited = Date.now() - start) {
    const before = machineBusyS();
    await new Promise((r) => setTimeout(r, 100));
    if (machineBusyS() - before <= 0.01) return Math.max(0, Date.now() - start - 100);
  }
  return Date.now() - start;
}

/**
 * The hosts' side of a run: what the machine was busy with beyond the tool's own process tree
 * (the hosts' sshd, their shells and commands, the kernel's loopback network work, and the little
 * the bench itself does). Not the sshd listeners' own and reaped children's CPU: when a client
 * drops a connection while its session's shell is still ending, sshd does not wait for that shell,
 * which is then reaped by init with everything it ran, so that count missed most of phx-play's
 * (and only phx-play's) host-side work.
 */
function restOfMachineCpuS(busyBefore: number, toolCpuS: number | undefined): number {
  return Math.max(0, machineBusyS() - busyBefore - (toolCpuS ?? 0));
}

function taskCount(playbook: string, hosts: number, out: string): number {
  const recap = totals(parseRecap(out), []);
  // ok + changed counted per host includes every executed task (changed ones are in ok too)
  return hosts > 0 ? Math.round((recap.ok + recap.skipped) / hosts) : 0;
}

async function scaleWorkload(o: Options, k: number): Promise<ScaleRecord> {
  const dir = join(workDir, `scale-${k}`);
  const t0 = Date.now();
  const hosts = await startBenchHosts({ dir: join(dir, 'hosts'), count: k });
  cleanups.push(() => hosts.stop());
  const startMs = Date.now() - t0;
  const targets = join(dir, 'targets');
  const extra = ['-e', `bench_base=${targets}`];
  const rec: ScaleRecord = {
    what: 'workload on sshd hosts',
    hosts: k,
    tasks: 0,
    startMs,
    firstWallMs: [],
    firstMaxRssKb: [],
    wallMs: [],
    maxRssKb: [],
    controllerCpuS: [],
    hostCpuS: [],
    changed: 0,
  };
  for (let rep = 1; rep <= o.reps; rep++) {
    rmSync(targets, { recursive: true, force: true });
    const first = await measure(phxArgv(hosts.inventoryFile, WORKLOAD, k, extra), { env: PHX_ENV, timeoutMs: 600_000 });
    if (first.rc !== 0)
      throw new Error(`workload on ${k} hosts failed:\n${(first.stdout + first.stderr).slice(-3000)}`);
    rec.firstWallMs.push(first.wallMs);
    rec.firstMaxRssKb.push(first.maxRssKb ?? first.peakTreeRssKb);
    await new Promise((r) => setTimeout(r, 500)); // the first run's sessions end
    const busy0 = machineBusyS();
    const m = await measure(phxArgv(hosts.inventoryFile, WORKLOAD, k, extra), { env: PHX_ENV, timeoutMs: 600_000 });
    if (m.rc !== 0) throw new Error(`workload second run on ${k} hosts failed:\n${(m.stdout + m.stderr).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
    rec.hostCpuS.push(restOfMachineCpuS(busy0, m.cpuS));
    if (m.cpuS !== undefined) rec.controllerCpuS.push(m.cpuS);
    rec.wallMs.push(m.wallMs);
    rec.maxRssKb.push(m.maxRssKb ?? m.peakTreeRssKb);
    rec.tasks = taskCount(WORKLOAD, k, m.stdout);
    rec.changed = Math.max(rec.changed, totals(parseRecap(m.stdout), []).changed);
    if (rec.changed !== 0) throw new Error(`workload second run on ${k} hosts reported changed=${rec.changed}`);
  }
  log(
    `  workload ${String(k).padStart(3)} hosts: first run ${fmtS(median(rec.firstWallMs))} (peak ${fmtMb(median(rec.firstMaxRssKb))}), second run ${fmtS(median(rec.wallMs))}, phx-play CPU ${median(rec.controllerCpuS).toFixed(2)} s, rest of the machine ${median(rec.hostCpuS).toFixed(2)} s CPU, peak ${fmtMb(median(rec.maxRssKb))}, sshd start ${fmtS(startMs)}, load ${loadavg()[0].toFixed(1)}`,
  );
  await hosts.stop();
  return rec;
}

interface LabModule {
  startLab(opts: { dir: string; hosts: number }): Promise<{ inventoryFile: string; stop(): Promise<void> }>;
}

async function scaleSite(o: Options, k: number, profileDir?: string): Promise<ScaleRecord | string> {
  if (!existsSync(SITE)) return 'playbooks/site.yml does not exist yet';
  const lab = (await import('../lab/index.js')) as unknown as LabModule;
  const dir = join(workDir, `lab-${k}`);
  const t0 = Date.now();
  const started = await lab.startLab({ dir, hosts: k });
  cleanups.push(() => started.stop());
  const startMs = Date.now() - t0;
  // the repository's lab variables, beside the lab's inventory (as test/phoenix.test.ts does)
  cpSync(join(ROOT, 'inventory/group_vars'), join(dirname(started.inventoryFile), 'group_vars'), { recursive: true });
  try {
    const converge = await measure(phxArgv(started.inventoryFile, SITE, k, []), { env: PHX_ENV, timeoutMs: 1_800_000 });
    // A failing task (the playbooks are young) still leaves a run worth timing: note it.
    const firstFailure = (out: string) => /^(?:fatal|failed): \[[^\]]+\].*$/m.exec(withoutColours(out));
    const fail1 = converge.rc !== 0 ? firstFailure(converge.stdout + converge.stderr) : null;
    if (converge.rc !== 0 && (converge.rc !== 2 || !fail1))
      return `site.yml first run on ${k} lab hosts failed (rc ${converge.rc}): ${(converge.stdout + converge.stderr).trim().split('\n').slice(-6).join(' / ')}`;
    const rec: ScaleRecord = {
      what: 'site.yml on lab hosts',
      hosts: k,
      tasks: 0,
      startMs,
      firstWallMs: [converge.wallMs],
      firstMaxRssKb: [converge.maxRssKb ?? converge.peakTreeRssKb],
      wallMs: [],
      maxRssKb: [],
      controllerCpuS: [],
      hostCpuS: [],
      changed: 0,
    };
    for (let rep = 1; rep <= o.reps; rep++) {
      const m = await measure(phxArgv(started.inventoryFile, SITE, k, []), { env: PHX_ENV, timeoutMs: 1_800_000 });
      if (m.rc !== 0) {
        const f = firstFailure(m.stdout + m.stderr);
        if (m.rc !== 2 || !f) return `site.yml second run on ${k} lab hosts failed (rc ${m.rc})`;
        const out = withoutColours(m.stdout);
        const banner = out.lastIndexOf('TASK [', f.index);
        const task = banner >= 0 ? out.slice(banner + 6, out.indexOf(']', banner)) : '?';
        rec.note = `a task fails on every run: '${task}' (later plays go on, so the run is timed to its end; the playbook is not converged there)`;
      }
      rec.wallMs.push(m.wallMs);
      rec.maxRssKb.push(m.maxRssKb ?? m.peakTreeRssKb);
      if (m.cpuS !== undefined) rec.controllerCpuS.push(m.cpuS);
      rec.tasks = taskCount(SITE, k, m.stdout);
      rec.changed = Math.max(rec.changed, totals(parseRecap(m.stdout), []).changed);
    }
    if (profileDir) {
      await measure(
        [
          process.execPath,
          '--cpu-prof',
          `--cpu-prof-dir=${profileDir}`,
          PHX,
          '-i',
          started.inventoryFile,
          '-f',
          String(k),
          SITE,
        ],
        { env: PHX_ENV },
      );
    }
    log(
      `  site.yml ${String(k).padStart(3)} lab hosts: second run ${fmtS(median(rec.wallMs))}, peak ${fmtMb(median(rec.maxRssKb))}, lab start ${fmtS(startMs)}`,
    );
    return rec;
  } finally {
    await started.stop();
  }
}

async function profileWorkload(k: number, profileDir: string): Promise<void> {
  const dir = join(workDir, `profile-${k}`);
  const hosts = await startBenchHosts({ dir: join(dir, 'hosts'), count: k });
  cleanups.push(() => hosts.stop());
  const extra = ['-e', `bench_base=${join(dir, 'targets')}`];
  await measure(phxArgv(hosts.inventoryFile, WORKLOAD, k, extra), { env: PHX_ENV });
  await measure(
    [
      process.execPath,
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      ...phxArgv(hosts.inventoryFile, WORKLOAD, k, extra).slice(1),
    ],
    { env: PHX_ENV },
  );
  await hosts.stop();
}

function latestProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  return files.length ? join(dir, files[files.length - 1]) : undefined;
}

// ---- part 3: start-up -------------------------------------------------------------

interface StartupRecord {
  what: string;
  ms: number[];
  /** CPU time (user + sys): less sensitive than wall time to other load on the machine */
  cpuMs: number[];
  maxRssKb: number[];
}

async function startup(o: Options): Promise<StartupRecord[]> {
  const n = Math.max(5, o.reps * 4);
  const cases: Array<[string, string[]]> = [
    ['node -e 0 (baseline: node itself)', ['-e', '0']],
    ['phx-play --version', ['--version']],
    ['phx-play --syntax-check bench/workload/workload.yml', ['--syntax-check', WORKLOAD]],
  ];
  if (existsSync(SITE)) cases.push(['phx-play --syntax-check playbooks/site.yml', ['--syntax-check', SITE]]);
  const out: StartupRecord[] = [];
  for (const [what, args] of cases) {
    const rec: StartupRecord = { what, ms: [], cpuMs: [], maxRssKb: [] };
    const argv = args[0] === '-e' ? [process.execPath, ...args] : [process.execPath, PHX, ...args];
    await measure(argv, { env: PHX_ENV }); // warm the page cache
    for (let i = 0; i < n; i++) {
      const m = await measure(argv, { env: PHX_ENV, sampleMs: 1000 });
      if (m.rc !== 0) throw new Error(`${what} failed (rc ${m.rc}): ${m.stderr.slice(-2000)}`);
      rec.ms.push(m.wallMs);
      if (m.cpuS !== undefined) rec.cpuMs.push(m.cpuS * 1000);
      if (m.maxRssKb !== undefined) rec.maxRssKb.push(m.maxRssKb);
    }
    log(
      `  ${what}: median ${median(rec.ms).toFixed(0)} ms (CPU ${median(rec.cpuMs).toFixed(0)} ms) over ${n} runs, load ${loadavg()[0].toFixed(1)}`,
    );
    out.push(rec);
  }
  return out;
}

// ---- report -------------------------------------------------------------------------

function machine(ansible: string | undefined): string[] {
  const os = existsSync('/etc/os-release')
    ? (/PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '')
    : '';
  const sshd = (() => {
    try {
      return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    } catch {
      return '?';
    }
  })();
  return [
    `- CPU: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; RAM ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os}; Node ${process.version}; ${ansible ?? 'ansible not measured'}`,
    `- load average when the report was written: ${sshd}`,
  ];
}

function compareTables(results: CompareResult[], tools: Tool[]): string[] {
  const lines: string[] = [];
  const ansibleTools = tools.filter((t) => t !== 'phx-play');
  const header = ['hosts', 'run', 'phx-play', ...ansibleTools.flatMap((t) => [t, `ratio vs ${t}`])];
  const rows: string[][] = [];
  for (const r of results)
    for (const phase of PHASES) {
      const of = (t: Tool) => r.runs.filter((x) => x.tool === t && x.phase === phase);
      const phx = of('phx-play');
      const row = [
        String(r.hosts),
        phase === 'first' ? 'first (changes)' : phase === 'second' ? 'second (all ok)' : '--check',
        fmtS(median(phx.map((x) => x.wallMs))),
      ];
      for (const t of ansibleTools) {
        const a = of(t);
        // ratio per repetition (the two runs were made moments apart), then the median
        const ratios = a.map((x) => x.wallMs / phx.find((p) => p.rep === x.rep)!.wallMs);
        row.push(fmtS(median(a.map((x) => x.wallMs))), fmtX(median(ratios)));
      }
      rows.push(row);
    }
  lines.push(...table(header, rows));
  lines.push(
    '',
    'Controller peak memory (median over runs; phx-play is one process, GNU time %M; Ansible: sum of VmRSS over its process tree sampled every 100 ms, largest single process in brackets):',
    '',
  );
  const mrows: string[][] = [];
  for (const r of results)
    for (const t of tools) {
      const rs = r.runs.filter((x) => x.tool === t);
      const tree = median(rs.map((x) => x.peakTreeRssKb));
      const single = median(rs.map((x) => x.maxRssKb ?? 0));
      mrows.push([String(r.hosts), t, t === 'phx-play' ? fmtMb(single || tree) : `${fmtMb(tree)} (${fmtMb(single)})`]);
    }
  lines.push(...table(['hosts', 'tool', 'peak memory'], mrows));
  const loads = results.flatMap((r) => r.runs.map((x) => x.load));
  lines.push(
    '',
    `1-minute load average at the start of these runs: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}) on ${cpus().length} CPUs.`,
  );
  return lines;
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  keepWorkDir = o.keep;
  workDir = mkdtempSync(join(tmpdir(), 'phx-bench-'));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  log(`bench: work directory ${workDir}; ${o.reps} repetition(s)`);
  const report: string[] = [];
  const raw: Record<string, unknown> = { options: o };
  let ansible: string | undefined;
  // written after every section, so a long run that fails late keeps what it measured
  const flush = () => {
    if (o.mdOut) writeFileSync(o.mdOut, report.join('\n') + '\n');
    if (o.jsonOut) writeFileSync(o.jsonOut, JSON.stringify(raw, null, 2) + '\n');
  };
  try {
    if (o.site) {
      const r = await benchSite(ROOT, workDir, { reps: o.reps, ...o.site }, (stop) => cleanups.push(stop), log);
      raw.site = r.runs;
      report.push('## Machine', '', ...machine(undefined), '', ...r.report, '');
      flush();
      process.stdout.write(report.join('\n') + '\n');
      return 0;
    }
    if (o.ansible) {
      ansible = ensureAnsible(log);
      log(`bench: ${ansible}`);
    }
    const found = o.pyinfra ? findPyinfra() : 'pyinfra not measured (--no-pyinfra)';
    if (typeof found === 'string') log(`bench: ${found}`);
    else {
      pyinfra = found;
      log(`bench: ${found.version} (${found.bin})`);
    }
    const tools: Tool[] = [
      'phx-play',
      ...(o.ansible ? (['ansible-fast'] as Tool[]) : []),
      ...(o.ansible && o.ansibleDefaults ? (['ansible-defaults'] as Tool[]) : []),
      ...(pyinfra ? (['pyinfra'] as Tool[]) : []),
    ];

    report.push(
      '## Machine',
      '',
      ...machine(ansible),
      `- ${typeof found === 'string' ? found : `${found.version} (${found.bin})`}`,
      '',
    );
    if (tools.length > 1) {
      const results: CompareResult[] = [];
      for (const k of o.hostCounts) {
        results.push(await compare(o, tools, k));
        raw.compare = results;
        flush();
      }
      report.push(
        `## phx-play vs ansible-playbook${pyinfra ? ' and pyinfra' : ''}: 20 tasks (bench/workload/workload.yml), median of ${o.reps} repetition(s)`,
        '',
      );
      for (const t of tools)
        if (t.startsWith('ansible-'))
          report.push(`- **${t}**: ${ANSIBLE_SETUPS[t.slice('ansible-'.length) as AnsibleSetup]}`);
      if (pyinfra)
        report.push(
          `- **pyinfra** (${pyinfra.version.replace(/^pyinfra:\s*/, '')}): bench/workload/deploy.py (the same 20 tasks), paramiko, --parallel = hosts; first and second runs with -y (no change-proposal pass), --check is --dry`,
        );
      report.push(
        "- ratio = the other tool's wall time / phx-play wall time of the same repetition (runs made back to back), median over repetitions",
        '',
      );
      report.push(
        ...compareTables(results, tools),
        ...cpuTable(results, tools),
        '',
        'Checks:',
        '',
        ...results.flatMap((r) => r.checks.map((c) => `- ${r.hosts} host(s): ${c}`)),
        '',
      );
      flush();
    }

    if (o.roundTrips) {
      const rt = await roundTrips();
      raw.roundTrips = rt;
      report.push('## Round trips per task per host (phx-play -vv EXEC lines, 1 host)', '');
      report.push(
        ...table(
          ['task', 'module', 'first run', 'second run', '--check'],
          rt.first.map((t, i) => [
            t.task,
            t.module,
            String(t.execs),
            String(rt.second[i]?.execs ?? '?'),
            String(rt.check[i]?.execs ?? '?'),
          ]),
        ),
      );
      report.push(
        '',
        `sshd (LogLevel DEBUG1) counted exec/subsystem channels (one exec channel is the remote shell that runs the commands) — first ${rt.sshd.first.exec}/${rt.sshd.first.subsystem}, second ${rt.sshd.second.exec}/${rt.sshd.second.subsystem}, --check ${rt.sshd.check.exec}/${rt.sshd.check.subsystem}; connections: ${rt.sshd.first.sessions}/${rt.sshd.second.sessions}/${rt.sshd.check.sessions}.`,
        '',
      );
      flush();
    }

    if (o.scale) {
      log('\n== phx-play at scale (first and second runs)');
      const profileDir = join(workDir, 'profiles');
      const records: Array<ScaleRecord | string> = [];
      const biggest = Math.max(...o.scaleCounts);
      for (const k of o.scaleCounts) {
        records.push(await scaleWorkload(o, k));
        raw.scale = records;
        flush();
      }
      const siteBiggest = Math.max(...o.siteScaleCounts);
      for (const k of o.siteScaleCounts) {
        const r = await scaleSite(o, k, o.profile && k === siteBiggest ? join(profileDir, 'site') : undefined);
        records.push(typeof r === 'string' ? `site.yml at ${k} hosts: ${r}` : r);
        raw.scale = records;
        flush();
        if (typeof r === 'string') break;
      }
      if (o.profile) await profileWorkload(biggest, join(profileDir, 'workload'));
      raw.scale = records;
      report.push(
        `## phx-play at fleet scale: first run (everything to do) and second run (everything in place), median of ${o.reps}`,
        '',
      );
      const done = records.filter((r): r is ScaleRecord => typeof r !== 'string');
      const perTaskHost = (ms: number, r: ScaleRecord) => `${(ms / Math.max(1, r.tasks * r.hosts)).toFixed(1)} ms`;
      report.push(
        ...table(
          [
            'playbook',
            'hosts',
            'tasks',
            'first run',
            'per task per host',
            'peak RSS',
            'second run',
            'per task per host',
            'peak RSS',
            'phx-play CPU',
            'per task per host',
            "hosts' CPU (rest of the machine)",
            'hosts start',
          ],
          done.map((r) => [
            r.what,
            String(r.hosts),
            String(r.tasks),
            fmtS(median(r.firstWallMs)),
            perTaskHost(median(r.firstWallMs), r),
            fmtMb(median(r.firstMaxRssKb)),
            fmtS(median(r.wallMs)),
            perTaskHost(median(r.wallMs), r),
            fmtMb(median(r.maxRssKb)),
            r.controllerCpuS.length ? `${median(r.controllerCpuS).toFixed(2)} s` : '?',
            r.controllerCpuS.length ? perTaskHost(median(r.controllerCpuS) * 1000, r) : '?',
            r.hostCpuS.length ? `${median(r.hostCpuS).toFixed(2)} s` : 'n/a',
            fmtS(r.startMs),
          ]),
        ),
        '',
        "Peak RSS: GNU time's %M, the phx-play process's own ru_maxrss. CPU columns: second run.",
      );
      for (const r of records) if (typeof r === 'string') report.push('', `- pending: ${r}`);
      for (const r of done) if (r.note) report.push('', `- ${r.what}, ${r.hosts} hosts: ${r.note}`);
      const profiles: Record<string, { totalMs: number; idleMs: number; hot: HotSpot[] }> = {};
      for (const which of ['workload', 'site']) {
        const f = latestProfile(join(profileDir, which));
        if (!f) continue;
        const s = summarizeProfile(f);
        profiles[which] = s;
        report.push(
          '',
          `CPU profile of phx-play, ${which === 'site' ? 'site.yml' : 'workload'} second run at ${which === 'site' ? siteBiggest : biggest} hosts (node --cpu-prof): ${fmtS(s.totalMs)} total, ${fmtS(s.idleMs)} idle (waiting on hosts); top self time:`,
          '',
        );
        report.push(
          ...table(
            ['function', 'self', 'share'],
            s.hot.map((h) => [h.fn, `${h.selfMs.toFixed(0)} ms`, `${(h.share * 100).toFixed(1)} %`]),
          ),
        );
      }
      raw.profiles = profiles;
      report.push('');
      flush();
    }

    if (o.startup) {
      log('\n== start-up');
      const s = await startup(o);
      raw.startup = s;
      report.push(
        '## Start-up',
        '',
        ...table(
          ['command', 'wall median', 'wall min', 'CPU median', 'peak memory'],
          s.map((r) => [
            r.what,
            `${median(r.ms).toFixed(0)} ms`,
            `${Math.min(...r.ms).toFixed(0)} ms`,
            r.cpuMs.length ? `${median(r.cpuMs).toFixed(0)} ms` : '?',
            r.maxRssKb.length ? fmtMb(median(r.maxRssKb)) : '?',
          ]),
        ),
        '',
      );
    }
  } finally {
    await cleanupAll();
  }
  process.stdout.write(report.join('\n') + '\n');
  flush();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (stopping) return; // the signal handler is cleaning up and exits
    log(`bench: ${(e as Error).message}`);
    void cleanupAll().finally(() => process.exit(1));
  },
);
