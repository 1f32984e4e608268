// systemd_service — a systemd unit's state, enablement and mask, with Ansible's
// arguments and results (ansible.builtin.systemd_service, lib/ansible/modules/
// systemd_service.py). Facts: one `systemctl show -p …` (LoadState, ActiveState,
// UnitFileState, …). The plan follows main(): mask/unmask first, then
// enable/disable, then the state (started: start unless active or activating;
// stopped: stop if active, activating or deactivating; restarted/reloaded: start
// when not running, else restart/reload, and the result's state is `started`).
// A unit systemd does not know fails with fail_if_missing's message.
// Without a running manager (a chroot, a container without systemd) `show` is
// ignored or fails: then, as main() does, the unit file state comes from
// `systemctl is-enabled` (mask, enable and disable work on unit files offline) and
// a state is left alone with Ansible's warning in a chroot (or SYSTEMD_OFFLINE=1),
// else refused ("Service is in unknown state").
import * as z from 'zod';
import { defineModule, ModuleError, type Change, type ModuleContext, type Plan } from '../src/module.js';

/** A unit name: systemd's unit name characters (unit_name_is_valid), no glob (the module refuses globs). */
const UNIT = /^[A-Za-z0-9:_.\\@-]+$/;
/** The unit name's schema (the service module's name too), built when a module's arguments are. */
export const unitName = () =>
  z
    .string()
    .refine((s) => !/[*?[]/.test(s), {
      message: 'This module does not currently support using glob patterns in the service name',
    })
    .refine((s) => UNIT.test(s) && !s.startsWith('-'), {
      message: 'a unit name is letters, digits and : _ . \\ @ - (not starting with -)',
    });

const args = () => {
  const unit = unitName();
  return z
    .object({
      name: unit.optional().describe('the unit (aliases: service, unit)'),
      service: unit.optional(),
      unit: unit.optional(),
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

export type Args = z.infer<ReturnType<typeof args>>;

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
  /** `systemctl show` as key → value (Ansible's `status`); empty without a unit, or when show was not answered */
  status: Record<string, string>;
  /** show was ignored (a chroot) or failed (no running manager): what main() reads instead */
  offline?: Offline;
}

/** systemd_service.py main()'s reads when `systemctl show` gives nothing (its `else:` branch). */
export interface Offline {
  /** `systemctl is-enabled <unit>`: stdout, trimmed, and exit code */
  isEnabled: string;
  isEnabledRc: number;
  /** `systemctl list-unit-files <unit>` exited 0 (asked only when is-enabled's answer is no unit file state) */
  listed: boolean;
  /** module_utils/service.py sysv_exists: /etc/init.d/<unit> exists */
  initScript: boolean;
  /** module_utils/service.py sysv_is_enabled: a start link /etc/rc?.d/S??<unit> */
  sysvEnabled: boolean;
  /** module_utils/facts/system/chroot.py is_chroot */
  chroot: boolean;
  /** SYSTEMD_OFFLINE=1 in the module's environment */
  offlineEnv: boolean;
}

/** the unit file states of `man systemctl` (systemd 244) that main() takes as "systemd knows this unit" */
const UNIT_FILE_STATES = [
  'enabled',
  'enabled-runtime',
  'linked',
  'linked-runtime',
  'masked',
  'masked-runtime',
  'static',
  'indirect',
  'disabled',
  'generated',
  'transient',
];

/**
 * The unit's init script and start links, whether / is a chroot, SYSTEMD_OFFLINE.
 * The unit is $1, never part of the script. is_chroot: debian_chroot set, else /
 * is not /proc/1/root, else (no /proc) /'s inode is not the file system's root
 * inode (2; 256 on btrfs, 128 on xfs).
 */
const PROBE = [
  'u=$1',
  '[ -n "$u" ] && [ -e "/etc/init.d/$u" ] && echo init-script',
  'if [ -d /etc/rc0.d ]; then links="/etc/rc?.d/S??$u"; else links="/etc/init.d/rc?.d/S??$u"; fi',
  '[ -n "$u" ] && for f in $links; do if [ -e "$f" ] || [ -L "$f" ]; then echo sysv-enabled; break; fi; done',
  'if [ -n "${debian_chroot:-}" ]; then echo chroot',
  'elif r=$(stat -c %d:%i / 2>/dev/null) && p=$(stat -L -c %d:%i /proc/1/root/. 2>/dev/null); then',
  '  [ "$r" != "$p" ] && echo chroot',
  'else',
  '  case $(stat -f -c %T / 2>/dev/null) in btrfs) i=256 ;; xfs) i=128 ;; *) i=2 ;; esac',
  '  [ "$(stat -c %i / 2>/dev/null)" != "$i" ] && echo chroot',
  'fi',
  '[ "${SYSTEMD_OFFLINE:-}" = 1 ] && echo offline-env',
  'true',
].join('\n');

/** The host's init scripts, chroot and SYSTEMD_OFFLINE as PROBE prints them (unit '' for none). */
export async function probeHost(ctx: ModuleContext, unit: string): Promise<Set<string>> {
  const r = await ctx.run(['sh', '-c', PROBE, 'sh', unit], { okExit: 'any' });
  return new Set(r.stdout.split('\n').map((l) => l.trim()));
}

/** main()'s `else:` branch: is-enabled, then list-unit-files ("show does not work on some systems (chroot)"). */
async function offlineFacts(ctx: ModuleContext, unit: string): Promise<Offline> {
  const isEnabled = await ctx.run(['systemctl', 'is-enabled', '--', unit], { okExit: 'any' });
  const state = isEnabled.stdout.trim();
  const listed = UNIT_FILE_STATES.includes(state)
    ? false
    : (await ctx.run(['systemctl', 'list-unit-files', '--', unit], { okExit: 'any' })).rc === 0;
  const host = await probeHost(ctx, unit);
  return {
    isEnabled: state,
    isEnabledRc: isEnabled.rc,
    listed,
    initScript: host.has('init-script'),
    sysvEnabled: host.has('sysv-enabled'),
    chroot: host.has('chroot'),
    offlineEnv: host.has('offline-env'),
  };
}

/** systemd_service.py request_was_ignored: systemctl's "Running in chroot, ignoring command 'show'" */
export const requestWasIgnored = (out: string) =>
  !out.includes('=') && (out.includes('ignoring request') || out.includes('ignoring command'));

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
  // Ansible: "cannot error out on rc as it changes across versions, assume not found"; a show that was
  // ignored (chroot) or failed (no manager running) is answered from the unit files instead
  if (r.rc === 0 && !requestWasIgnored(r.stdout) && !requestWasIgnored(r.stderr))
    return { status: parseShow(r.stdout) };
  return { status: {}, offline: await offlineFacts(ctx, unit) };
}

const running = (s: Record<string, string>) => ['active', 'activating'].includes(s.ActiveState ?? '');
const systemctl = (a: Args, ...rest: string[]): string[] => [
  'systemctl',
  ...(a.no_block ? ['--no-block'] : []),
  ...rest,
];

/** What main() knows of the unit: from `show`, or (offline) from is-enabled and the init scripts. */
interface UnitView {
  found: boolean;
  masked: boolean;
  /** what `systemctl is-enabled` says, as main() reads it for `enabled` */
  enabled: boolean;
  warnings: string[];
}

function view(unit: string, f: Facts): UnitView {
  const off = f.offline;
  if (!off) {
    const s = f.status;
    return {
      found: s.LoadState !== undefined && s.LoadState !== 'not-found',
      masked: s.LoadState === 'masked' || s.UnitFileState === 'masked',
      // systemctl is-enabled exits 0 for these (Ansible's test), indirect and alias count as disabled
      enabled: ['enabled', 'enabled-runtime', 'static', 'generated', 'transient'].includes(s.UnitFileState ?? ''),
      warnings: [],
    };
  }
  const isSystemd = UNIT_FILE_STATES.includes(off.isEnabled) || off.listed;
  const warnings =
    off.initScript && !isSystemd
      ? [`The service (${unit}) is actually an init script but the system is managed by systemd`]
      : [];
  // rc 0 is enabled unless the answer is just indirect or alias; rc 1 with an init script: its start links
  const enabled =
    off.isEnabledRc === 0
      ? !['indirect', 'alias'].includes(off.isEnabled)
      : off.isEnabledRc === 1 && off.initScript && !off.isEnabled.endsWith('disabled') && off.sysvEnabled;
  return { found: isSystemd || off.initScript, masked: off.isEnabled === 'masked', enabled, warnings };
}

export const OFFLINE_WARNING =
  'Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.';

function plan(f: Facts, a: Args): Plan {
  const unit = unitOf(a);
  const changes: Change[] = [];
  const result: Record<string, unknown> = { name: unit ?? null, status: f.status };
  // main() runs daemon-reload whenever asked (not in check mode) and never counts it as a change
  if (daemonReload(a))
    changes.push({ description: 'systemctl daemon-reload', argv: systemctl(a, 'daemon-reload'), unreported: true });
  if (!unit) return { changes, result };
  const s = f.status;
  const { found, masked, enabled, warnings } = view(unit, f);
  if (warnings.length) result.warnings = warnings;
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
    if (s.ActiveState === undefined) {
      // main(): no ActiveState to act on; in a chroot (or SYSTEMD_OFFLINE=1) the state is left as it is
      if (f.offline?.chroot || f.offline?.offlineEnv) {
        result.warnings = [...warnings, OFFLINE_WARNING];
        return { changes, result };
      }
      return { changes: [], result, fail: 'Service is in unknown state' };
    }
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
async function apply(ctx: ModuleContext, p: Plan, a: Args, f: Facts): Promise<Record<string, unknown>> {
  const warnings = [...((p.result?.warnings as string[] | undefined) ?? [])];
  const unit = unitOf(a);
  for (const c of p.changes) {
    const r = await ctx.run(c.argv!, { okExit: 'any' });
    if (r.rc === 0) continue;
    const verb = c.argv!.find((x) => !x.startsWith('-') && x !== 'systemctl')!;
    if (verb === 'daemon-reload') {
      // main(): a chroot or SYSTEMD_OFFLINE=1 may refuse it; carry on there
      const host = await probeHost(ctx, '');
      if (!host.has('chroot') && !host.has('offline-env'))
        throw new ModuleError(`failure ${r.rc} during daemon-reload: ${r.stderr.trim()}`, { result: r });
      warnings.push(
        `daemon-reload failed, but target is a chroot or systemd is offline. Continuing. Error was: ${r.rc} / ${r.stderr.trim()}`,
      );
      continue;
    }
    // main(): "some versions of system CAN mask/unmask non existing services, we only fail on missing if they don't"
    if ((verb === 'mask' || verb === 'unmask') && !view(unit!, f).found)
      throw new ModuleError(`Could not find the requested service ${unit}: host`, { result: r });
    throw new ModuleError(
      ['enable', 'disable'].includes(verb)
        ? `Unable to ${verb} service ${unit}: ${(r.stdout + r.stderr).trim()}`
        : `Unable to ${verb} service ${unit}: ${r.stderr.trim()}`,
      { result: r },
    );
  }
  const extra: Record<string, unknown> = warnings.length ? { warnings } : {};
  // the registered status is the unit as it is now (Ansible's is read before acting; ours is re-read so
  // that a later task sees the state it made)
  if (p.changes.length && unit) return { ...extra, status: (await facts(ctx, a)).status };
  return extra;
}

export default defineModule<Args, Facts>({
  name: 'systemd_service',
  aliases: [
    'systemd',
    'ansible.builtin.systemd_service',
    'ansible.builtin.systemd',
    'ansible.legacy.systemd_service',
    'ansible.legacy.systemd',
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
