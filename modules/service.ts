// service — Ansible's `service`. Its action plugin (lib/ansible/plugins/action/service.py,
// ActionModule.run) picks the module by the host's service manager: `use`, else the
// gathered ansible_facts.service_mgr, else a service_mgr probe. `systemd` runs the
// systemd module (here: systemd_service, offline behaviour included); anything else runs
// lib/ansible/modules/service.py, whose LinuxService is reproduced for init scripts:
// get_service_tools (systemd detected by check_systemd, upstart and OpenRC refused as not
// supported, else the init script with update-rc.d), get_service_status (`service <name>
// status`, its exit code and one-line output), check_service_changed, modify_service_state
// (restart = stop then start) and service_enable's update-rc.d branch (start links).
import * as z from 'zod';
import {
  defineModule,
  ModuleError,
  type Change,
  type ModuleContext,
  type Plan,
  type PlanContext,
} from '../src/module.js';
import type { ExecResult } from '../src/connection/types.js';
import { factsScript, splitSections } from '../src/facts/script.js';
import { serviceMgrFact } from '../src/facts/system.js';
import systemd, { unitName, type Args as SystemdArgs, type Facts as SystemdFacts } from './systemd_service.js';

const STATES = ['started', 'stopped', 'restarted', 'reloaded'] as const;

const args = () =>
  z
    .object({
      name: unitName().describe('the service'),
      state: z.enum(STATES).optional(),
      enabled: z.boolean().optional(),
      use: z
        .string()
        .default('auto')
        .describe(
          'the service module: auto (by the service manager), systemd, or another name for the init-script one',
        ),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.state === undefined && a.enabled === undefined)
        ctx.addIssue({ code: 'custom', path: ['state'], message: 'one of the following is required: state, enabled' });
    });

type Args = z.infer<ReturnType<typeof args>>;

/** What service.py's LinuxService finds on the host (get_service_tools) and the status it reads. */
export interface InitFacts {
  /** the service manager the action plugin went by */
  serviceMgr: string;
  /** get_service_tools' binaries found (name → path), in /sbin, /usr/sbin, /bin, /usr/bin or PATH */
  tools: Record<string, string>;
  /** /etc/init.d/<name> is a file */
  initScript: boolean;
  /** check_systemd: systemctl and a systemd canary (/run/systemd/system/ …) or PID 1's comm naming systemd */
  systemdRuns: boolean;
  /** /etc/init/<name>.conf (an upstart job) */
  upstartJob: boolean;
  /** start (S??<name>) and kill (K??<name>) links in /etc/rc?.d */
  startLinks: boolean;
  killLinks: boolean;
  /** get_service_status: `<service> <name> status` (or `<script> status`), read when a state is asked */
  status?: { rc: number; stdout: string };
}

export type Facts = { kind: 'systemd'; systemd: SystemdFacts } | { kind: 'init'; init: InitFacts };

const TOOLS = ['service', 'chkconfig', 'update-rc.d', 'rc-service', 'rc-update', 'initctl', 'systemctl', 'insserv'];

/** get_service_tools' look at the host; the name is $1, never part of the script. */
const TOOLS_PROBE = [
  'n=$1',
  `for b in ${TOOLS.join(' ')}; do`,
  '  p=$(PATH="/sbin:/usr/sbin:/bin:/usr/bin:$PATH" command -v "$b" 2>/dev/null) && printf "tool %s %s\\n" "$b" "$p"',
  'done',
  '[ -f "/etc/init.d/$n" ] && echo init-script',
  'for c in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e "$c" ] && echo systemd-canary; done',
  'grep -q systemd /proc/1/comm 2>/dev/null && echo systemd-comm',
  '[ -e "/etc/init/$n.conf" ] && echo upstart-job',
  'for f in /etc/rc?.d/S??"$n"; do if [ -e "$f" ] || [ -L "$f" ]; then echo start-links; break; fi; done',
  'for f in /etc/rc?.d/K??"$n"; do if [ -e "$f" ] || [ -L "$f" ]; then echo kill-links; break; fi; done',
  'true',
].join('\n');

const systemdArgs = (a: Args): SystemdArgs => systemd.args.parse({ name: a.name, state: a.state, enabled: a.enabled });

/** The action plugin's choice: `use`, the gathered fact, else service_mgr.py's reading of the host. */
function factManager(ctx: ModuleContext): string | undefined {
  const facts = ctx.vars.ansible_facts;
  const mgr = facts && typeof facts === 'object' ? (facts as Record<string, unknown>).service_mgr : undefined;
  return typeof mgr === 'string' && mgr ? mgr : undefined;
}

async function facts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const use = a.use.toLowerCase();
  const known = use !== 'auto' ? use : factManager(ctx);
  const probe = factsScript(known ? [] : ['service_mgr']);
  const r = await ctx.run(['sh', '-c', `${probe.script}\n${TOOLS_PROBE}`, 'sh', a.name], { okExit: 'any' });
  const serviceMgr = known ?? serviceMgrFact(splitSections(r.stdout, probe.marker).service_mgr);
  if (serviceMgr === 'systemd') return { kind: 'systemd', systemd: await systemd.facts(ctx, systemdArgs(a)) };
  const seen = new Set(r.stdout.slice(r.stdout.lastIndexOf(`${probe.marker} end`)).split('\n'));
  const tools: Record<string, string> = {};
  for (const l of seen) {
    const m = /^tool (\S+) (\/.*)$/.exec(l);
    if (m) tools[m[1]] = m[2];
  }
  const init: InitFacts = {
    serviceMgr,
    tools,
    initScript: seen.has('init-script'),
    systemdRuns: 'systemctl' in tools && (seen.has('systemd-canary') || seen.has('systemd-comm')),
    upstartJob: seen.has('upstart-job'),
    startLinks: seen.has('start-links'),
    killLinks: seen.has('kill-links'),
  };
  // check_systemd: a running systemd manages it after all (LinuxService then drives systemctl)
  if (init.systemdRuns) return { kind: 'systemd', systemd: await systemd.facts(ctx, systemdArgs(a)) };
  const control = controlCommand(init, a.name);
  if (a.state !== undefined && control && toolsProblem(init, a) === undefined) {
    const st = await ctx.run([...control, 'status'], { okExit: 'any' });
    init.status = { rc: st.rc, stdout: st.stdout };
  }
  return { kind: 'init', init };
}

/** service_control's command: `service <name> <action>`, else the init script itself. */
function controlCommand(f: InitFacts, name: string): string[] | undefined {
  if (f.tools.service) return [f.tools.service, name];
  if (f.initScript) return [`/etc/init.d/${name}`];
  return undefined;
}

/** get_service_tools' refusals, in its order (upstart, OpenRC: phx-play does not drive them). */
function toolsProblem(f: InitFacts, a: Args): string | undefined {
  if (f.tools.initctl && f.upstartJob)
    return `${a.name} is an upstart job: phx-play's service does not drive upstart (Ansible's would use initctl)`;
  if (f.tools['rc-service'])
    return `this host uses OpenRC: phx-play's service does not drive rc-service/rc-update (service manager ${f.serviceMgr})`;
  const enableCmd = f.initScript ? (['update-rc.d', 'insserv', 'chkconfig'].find((t) => f.tools[t]) ?? null) : null;
  if (enableCmd === null) return `Could not find the requested service ${a.name}: host`;
  if (a.enabled !== undefined && enableCmd !== 'update-rc.d')
    return `enabling ${a.name} through ${enableCmd} is not supported by phx-play (update-rc.d only)`;
  if (!controlCommand(f, a.name))
    return "cannot find 'service' binary or init script for service,  possible typo in service name?, aborting";
  return undefined;
}

/**
 * get_service_status for an init script: an LSB "not running" exit code, else the
 * keywords of a one-line output (the name taken out), else exit 0 means running.
 */
export function isRunning(name: string, st: { rc: number; stdout: string }): boolean | null {
  if ([1, 2, 3, 4, 69].includes(st.rc)) return false;
  if (st.stdout.split('\n').length - 1 <= 1) {
    const clean = st.stdout.toLowerCase().split(name.toLowerCase()).join('');
    if (clean.includes('stop')) return false;
    if (clean.includes('run')) return !clean.includes('not ');
    if (clean.includes('start') && !clean.includes('not ')) return true;
    const dead = [
      'could not access pid file',
      'is dead and pid file exists',
      'dead but subsys locked',
      'dead but pid file exists',
    ];
    if (dead.some((d) => clean.includes(d))) return false;
  }
  if (st.rc === 0) return true;
  if (name === 'iptables' && st.stdout.includes('ACCEPT')) return true;
  return null;
}

function initPlan(f: InitFacts, a: Args): Plan {
  const result: Record<string, unknown> = { name: a.name };
  const problem = toolsProblem(f, a);
  if (problem) return { changes: [], result, fail: problem };
  const changes: Change[] = [];
  const updateRcD = f.tools['update-rc.d'];
  // service_enable, update-rc.d: enabled means start links; enabling without kill links installs the defaults first
  if (a.enabled !== undefined) {
    result.enabled = a.enabled;
    if (a.enabled !== f.startLinks) {
      if (a.enabled && !f.killLinks)
        changes.push({ description: `update-rc.d ${a.name} defaults`, argv: [updateRcD, a.name, 'defaults'] });
      const action = a.enabled ? 'enable' : 'disable';
      changes.push({ description: `update-rc.d ${a.name} ${action}`, argv: [updateRcD, a.name, action] });
    }
  }
  if (a.state === undefined) return { changes, result };
  result.state = a.state === 'stopped' ? 'stopped' : 'started';
  const running = f.status ? isRunning(a.name, f.status) : null;
  if (running === null)
    return { changes: [], result, fail: 'failed determining service state, possible typo of service name?' };
  // check_service_changed and modify_service_state
  let actions: string[] = [];
  if (a.state === 'restarted') actions = ['stop', 'start'];
  else if (a.state === 'started' && !running) actions = ['start'];
  else if (a.state === 'reloaded') actions = [running ? 'reload' : 'start'];
  else if (a.state === 'stopped' && running) actions = ['stop'];
  const control = controlCommand(f, a.name)!;
  for (const action of actions)
    changes.push({ description: `${control.join(' ')} ${action}`, argv: [...control, action] });
  return { changes, result };
}

/**
 * The init-script commands one by one, with service.py's failure rules: a restart fails only
 * when its start fails (or both do); a failure says the command's stderr, else its stdout.
 */
async function initApply(ctx: ModuleContext, p: Plan): Promise<void> {
  let stop: ExecResult | undefined;
  for (const [i, c] of p.changes.entries()) {
    // the output goes to files: a daemon the script starts may keep its stdout open for ever
    const r = await ctx.run(['sh', '-c', DETACHED, 'sh', ...c.argv!], { okExit: 'any' });
    const verb = c.argv!.at(-1);
    if (verb === 'stop' && p.changes[i + 1]?.argv?.at(-1) === 'start') {
      stop = r; // a restart: judged with its start
      continue;
    }
    const restart = stop !== undefined && verb === 'start';
    if (r.rc === 0) continue; // a restart whose start worked has worked, whatever its stop said
    const err = restart ? stop!.stderr + r.stderr : r.stderr;
    const out = restart ? stop!.stdout + r.stdout : r.stdout;
    if (err.includes('Job is already running')) continue;
    throw new ModuleError(err || out || `${c.argv!.join(' ')} exited ${r.rc}`, { result: r });
  }
}

/** Runs "$@" with stdin from /dev/null and its output through files (read back once it exits). */
const DETACHED = [
  'o=$(mktemp) && e=$(mktemp) || exit 125',
  '"$@" </dev/null >"$o" 2>"$e"; rc=$?',
  'cat "$o"; cat "$e" >&2; rm -f "$o" "$e"; exit $rc',
].join('\n');

function plan(f: Facts, a: Args, ctx: PlanContext): Plan {
  if (f.kind === 'systemd') return systemd.plan(f.systemd, systemdArgs(a), ctx);
  return initPlan(f.init, a);
}

async function apply(ctx: ModuleContext, p: Plan, a: Args, f: Facts): Promise<Record<string, unknown> | void> {
  if (f.kind === 'systemd') return systemd.apply!(ctx, p, systemdArgs(a), f.systemd);
  await initApply(ctx, p);
}

export default defineModule<Args, Facts>({
  name: 'service',
  aliases: ['ansible.builtin.service', 'ansible.legacy.service'],
  description: "a service, by the host's service manager: systemd units, else init scripts (Ansible service)",
  args,
  facts,
  plan,
  apply,
  verify: {
    // restarted/reloaded happened once; converged means running
    steady: (a) => ({ ...a, state: a.state === 'restarted' || a.state === 'reloaded' ? 'started' : a.state }),
  },
});
