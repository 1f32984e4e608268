// systemd_service — a systemd unit's state, enablement and mask, with Ansible's
// arguments and results (ansible.builtin.systemd_service, lib/ansible/modules/
// systemd_service.py). Facts: one `systemctl show -p …` (LoadState, ActiveState,
// UnitFileState, …). The plan follows main(): mask/unmask first, then
// enable/disable, then the state (started: start unless active or activating;
// stopped: stop if active, activating or deactivating; restarted/reloaded: start
// when not running, else restart/reload, and the result's state is `started`).
// A unit systemd does not know fails with fail_if_missing's message.
import * as z from 'zod';
import { defineModule, ModuleError, type Change, type ModuleContext, type Plan } from '../src/module.js';

/** A unit name: systemd's unit name characters (unit_name_is_valid), no glob (the module refuses globs). */
const UNIT = /^[A-Za-z0-9:_.\\@-]+$/;
const args = () => {
  const unitName = z
    .string()
    .refine((s) => !/[*?[]/.test(s), {
      message: 'This module does not currently support using glob patterns in the service name',
    })
    .refine((s) => UNIT.test(s) && !s.startsWith('-'), {
      message: 'a unit name is letters, digits and : _ . \\ @ - (not starting with -)',
    });
  return z
    .object({
      name: unitName.optional().describe('the unit (aliases: service, unit)'),
      service: unitName.optional(),
      unit: unitName.optional(),
      state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
      enabled: z.boolean().optional(),
      masked: z.boolean().optional(),
      daemon_reload: z.boolean().default(false).describe('systemctl daemon-reload first (alias: daemon-reload)'),
      'daemon-reload': z.boolean().optional(),
      scope: z.enum(['system', 'user', 'global']).default('system').describe('only system is supported'),
      no_block: z.boolean().default(false),
    })
    .strict()
    .superRefine((a, ctx) => {
      const given = [a.name, a.service, a.unit].filter((x) => x !== undefined).length;
      if (given > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: 'give only one of name, service, unit (they are aliases)',
        });
      const reload = a.daemon_reload || a['daemon-reload'] === true;
      if (a.state === undefined && a.enabled === undefined && a.masked === undefined && !reload)
        ctx.addIssue({
          code: 'custom',
          path: ['state'],
          message: 'one of the following is required: state, enabled, masked, daemon_reload',
        });
      if (given === 0 && (a.state !== undefined || a.enabled !== undefined || a.masked !== undefined))
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'name is required with state, enabled or masked' });
      if (a.scope !== 'system')
        ctx.addIssue({
          code: 'custom',
          path: ['scope'],
          message: `scope ${a.scope} is not supported: phx-play manages system units only (as root)`,
        });
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const unitOf = (a: Args) => a.name ?? a.service ?? a.unit;
const daemonReload = (a: Args) => a.daemon_reload || a['daemon-reload'] === true;

export const SHOW_PROPERTIES = [
  'Id',
  'Names',
  'LoadState',
  'ActiveState',
  'SubState',
  'UnitFileState',
  'FragmentPath',
  'LoadError',
];

export interface Facts {
  /** `systemctl show` as key → value (Ansible's `status`); empty without a unit */
  status: Record<string, string>;
}

/** systemd_service.py parse_systemctl_show: KEY=VALUE lines (multi-line only for Exec* `{ … }`). */
export function parseShow(stdout: string): Record<string, string> {
  const parsed: Record<string, string> = {};
  let key: string | null = null;
  let multi: string[] = [];
  for (const line of stdout.split('\n')) {
    if (key === null) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const k = line.slice(0, eq);
      const v = line.slice(eq + 1);
      if (k.startsWith('Exec') && v.trimStart().startsWith('{') && !v.trimEnd().endsWith('}')) {
        key = k;
        multi = [v];
        continue;
      }
      parsed[k] = v.trim();
    } else {
      multi.push(line);
      if (line.trimEnd().endsWith('}')) {
        parsed[key] = multi.join('\n').trim();
        key = null;
        multi = [];
      }
    }
  }
  return parsed;
}

async function facts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const unit = unitOf(a);
  if (!unit) return { status: {} };
  const r = await ctx.run(['systemctl', 'show', '-p', SHOW_PROPERTIES.join(','), '--', unit], { okExit: 'any' });
  // Ansible: "cannot error out on rc as it changes across versions, assume not found"
  return { status: r.rc === 0 ? parseShow(r.stdout) : {} };
}

const running = (s: Record<string, string>) => ['active', 'activating'].includes(s.ActiveState ?? '');
const systemctl = (a: Args, ...rest: string[]): string[] => [
  'systemctl',
  ...(a.no_block ? ['--no-block'] : []),
  ...rest,
];

function plan(f: Facts, a: Args): Plan {
  const unit = unitOf(a);
  const changes: Change[] = [];
  const result: Record<string, unknown> = { name: unit ?? null, status: f.status };
  if (daemonReload(a)) changes.push({ description: 'systemctl daemon-reload', argv: systemctl(a, 'daemon-reload') });
  if (!unit) return { changes, result };
  const s = f.status;
  const found = s.LoadState !== undefined && s.LoadState !== 'not-found';
  const masked = s.LoadState === 'masked' || s.UnitFileState === 'masked';
  if (found && !masked && s.LoadError)
    return { changes: [], result, fail: `Error loading unit file '${unit}': ${s.LoadError}` };
  const missing = `Could not find the requested service ${unit}: host`;

  if (a.masked !== undefined && a.masked !== masked)
    changes.push({
      description: `${a.masked ? 'mask' : 'unmask'} ${unit}`,
      argv: systemctl(a, a.masked ? 'mask' : 'unmask', '--', unit),
    });
  const willBeMasked = a.masked ?? masked;

  if (a.enabled !== undefined) {
    if (!found && !masked) return { changes: [], result, fail: missing };
    // systemctl is-enabled exits 0 for these (Ansible's test), indirect and alias count as disabled
    const enabled = ['enabled', 'enabled-runtime', 'static', 'generated', 'transient'].includes(s.UnitFileState ?? '');
    result.enabled = a.enabled;
    if (enabled !== a.enabled) {
      if (a.enabled && willBeMasked)
        return { changes: [], result, fail: `Unable to enable service ${unit}: Unit file is masked.` };
      changes.push({
        description: `${a.enabled ? 'enable' : 'disable'} ${unit}`,
        argv: systemctl(a, a.enabled ? 'enable' : 'disable', '--', unit),
      });
    }
  }

  if (a.state !== undefined) {
    if (!found && !masked) return { changes: [], result, fail: missing };
    result.state = a.state;
    let action: string | null = null;
    if (a.state === 'started') action = running(s) ? null : 'start';
    else if (a.state === 'stopped') action = running(s) || s.ActiveState === 'deactivating' ? 'stop' : null;
    else {
      action = running(s) ? a.state.slice(0, -2) : 'start';
      result.state = 'started';
    }
    if (action) {
      if (willBeMasked && action !== 'stop')
        return { changes: [], result, fail: `Unable to ${action} service ${unit}: Unit ${unit}.service is masked.` };
      changes.push({ description: `${action} ${unit}`, argv: systemctl(a, action, '--', unit) });
    }
  }
  return { changes, result };
}

/** Each systemctl on its own, so a failure says which action failed in Ansible's words. */
async function apply(ctx: ModuleContext, p: Plan, a: Args): Promise<Record<string, unknown>> {
  for (const c of p.changes) {
    const r = await ctx.run(c.argv!, { okExit: 'any' });
    if (r.rc === 0) continue;
    const verb = c.argv!.find((x) => !x.startsWith('-') && x !== 'systemctl')!;
    if (verb === 'daemon-reload')
      throw new ModuleError(`failure ${r.rc} during daemon-reload: ${r.stderr.trim()}`, { result: r });
    const unit = unitOf(a)!;
    throw new ModuleError(
      ['enable', 'disable'].includes(verb)
        ? `Unable to ${verb} service ${unit}: ${(r.stdout + r.stderr).trim()}`
        : `Unable to ${verb} service ${unit}: ${r.stderr.trim()}`,
      { result: r },
    );
  }
  // the registered status is the unit as it is now (Ansible's is read before acting; ours is re-read so
  // that a later task sees the state it made)
  if (p.changes.length && unitOf(a)) return { status: (await facts(ctx, a)).status };
  return {};
}

export default defineModule<Args, Facts>({
  name: 'systemd_service',
  aliases: [
    'systemd',
    'service',
    'ansible.builtin.systemd_service',
    'ansible.builtin.systemd',
    'ansible.builtin.service',
    'ansible.legacy.systemd_service',
    'ansible.legacy.systemd',
    'ansible.legacy.service',
  ],
  description: 'a systemd unit: started/stopped/restarted/reloaded, enabled, masked (Ansible systemd_service)',
  args,
  facts,
  plan: (f, a) => plan(f, a),
  apply,
  verify: {
    // restarted/reloaded happened once; converged means running. daemon-reload is not repeated
    steady: (a) => ({
      ...a,
      state: a.state === 'restarted' || a.state === 'reloaded' ? 'started' : a.state,
      daemon_reload: false,
      'daemon-reload': undefined,
    }),
  },
});
