// package — Ansible's generic `package`. Its action plugin (lib/ansible/plugins/action/package.py,
// ActionModule.run) picks the package manager module: `use`, else the ansible_package_use
// variable, else the gathered ansible_facts.pkg_mgr, else the setup module's pkg_mgr reading of
// the host (lib/ansible/module_utils/facts/system/pkg_mgr.py); then it runs that module with the
// task's arguments as they are, `use` taken out. phx-play drives one backend, apt: its facts,
// plan and apply run here with the same arguments (so apt.py's own rules apply: its state
// choices, its extra arguments); any other package manager is refused as not supported.
import * as z from 'zod';
import { defineModule, ModuleError, type ModuleContext, type Plan, type PlanContext } from '../src/module.js';
import { factsScript, splitSections } from '../src/facts/script.js';
import { factsFromSections } from '../src/facts/collect.js';
import apt, { type Facts as AptFacts } from './apt.js';

type AptArgs = typeof apt.args extends z.ZodType<infer A> ? A : never;

/** apt.py main()'s state choices: what `state` may be when apt is the backend. */
const APT_STATES = ['absent', 'build-dep', 'fixed', 'latest', 'present'];
/** the names `use` (or the pkg_mgr fact) may give apt by */
const APT_NAMES = ['apt', 'ansible.builtin.apt', 'ansible.legacy.apt'];

const args = () =>
  z
    .object({
      name: z.unknown().optional().describe('package(s), as the backend reads them (apt: name[:arch][=version])'),
      state: z.string().optional().describe('present, absent, or a state of the backend (apt: latest)'),
      use: z
        .string()
        .default('auto')
        .describe('the package manager module: auto (by the pkg_mgr fact or a probe of the host), or apt'),
    })
    // the backend's own arguments pass through, as the action plugin passes them
    .catchall(z.unknown())
    .superRefine((a, ctx) => {
      if (a.use !== 'auto' && !APT_NAMES.includes(a.use)) return; // refused at run time, as not supported
      // apt is the only backend that can run: its rules, checked here so that a mistake is located
      if (a.state !== undefined && !APT_STATES.includes(a.state)) {
        ctx.addIssue({
          code: 'custom',
          path: ['state'],
          message: `value of state must be one of: ${APT_STATES.join(', ')}, got: ${a.state}`,
        });
        return;
      }
      const r = apt.args.safeParse(backendArgs(a));
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
    });

type Args = z.infer<ReturnType<typeof args>>;

/** The task's arguments without `use`: what the backend module is given. */
function backendArgs(a: Args): Record<string, unknown> {
  const { use: _use, ...rest } = a;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

const aptArgs = (a: Args): AptArgs => apt.args.parse(backendArgs(a));

export interface Facts {
  /** the package manager module the action plugin went by, and where it read it */
  pkgMgr: string;
  from: 'use' | 'ansible_package_use' | 'ansible_facts.pkg_mgr' | 'probe';
  apt: AptFacts;
}

function stringVar(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** The action plugin's choice, before any probe: `use`, ansible_package_use, the gathered fact. */
function knownManager(ctx: ModuleContext, a: Args): Pick<Facts, 'pkgMgr' | 'from'> | undefined {
  if (a.use !== 'auto') return { pkgMgr: a.use, from: 'use' };
  const configured = stringVar(ctx.vars.ansible_package_use);
  if (configured) return { pkgMgr: configured, from: 'ansible_package_use' };
  const facts = ctx.vars.ansible_facts;
  const fact = facts && typeof facts === 'object' ? stringVar((facts as Record<string, unknown>).pkg_mgr) : undefined;
  return fact ? { pkgMgr: fact, from: 'ansible_facts.pkg_mgr' } : undefined;
}

/** setup's pkg_mgr collector on the host (filter ansible_pkg_mgr, gather_subset !all). */
async function probeManager(ctx: ModuleContext): Promise<string> {
  // pkg_mgr.py decides by the OS family too: the distribution's sources are read with it
  const probe = factsScript(['pkg_mgr', 'os_release', 'debian_version', 'redhat_release', 'alpine_release']);
  const r = await ctx.runShell(probe.script, { okExit: 'any', noBecome: true });
  if (!r.stdout.includes(`\n${probe.marker} end`))
    throw new ModuleError(
      `Failed to fetch ansible_pkg_mgr to determine the package action backend: ${r.stderr.trim() || `exit code ${r.rc}`}`,
      { result: r },
    );
  return String(factsFromSections(splitSections(r.stdout, probe.marker), ['pkg_mgr']).pkg_mgr);
}

async function facts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const chosen = knownManager(ctx, a) ?? { pkgMgr: await probeManager(ctx), from: 'probe' as const };
  if (!APT_NAMES.includes(chosen.pkgMgr)) {
    const how = chosen.from === 'probe' ? 'found on the host' : `given by ${chosen.from}`;
    throw new ModuleError(
      `package: the package manager '${chosen.pkgMgr}' (${how}) is not supported by phx-play: only apt is`,
      { hint: 'on this host use the package manager module itself, or run the task with Ansible' },
    );
  }
  return { ...chosen, apt: await apt.facts(ctx, aptArgs(a)) };
}

function plan(f: Facts, a: Args, ctx: PlanContext): Plan {
  return apt.plan(f.apt, aptArgs(a), ctx);
}

async function apply(ctx: ModuleContext, p: Plan, a: Args, f: Facts): Promise<Record<string, unknown> | void> {
  return apt.apply!(ctx, p, aptArgs(a), f.apt);
}

export default defineModule<Args, Facts>({
  name: 'package',
  aliases: ['ansible.builtin.package', 'ansible.legacy.package'],
  description: "packages by the host's package manager (Ansible package): apt, its arguments passed through",
  args,
  facts,
  plan,
  apply,
  verify: {
    // apt's: the cache was updated once; converged means the packages are as asked
    steady: (a) =>
      a.update_cache === undefined && a['update-cache'] === undefined && a.cache_valid_time === undefined
        ? a
        : { ...a, update_cache: false, 'update-cache': undefined, cache_valid_time: 0 },
  },
});
