// apt — Debian packages, with Ansible's arguments and results (ansible.builtin.apt,
// lib/ansible/modules/apt.py). Facts in one round trip: dpkg-query for the named
// packages' status and version, apt-cache policy for their candidates, the apt
// cache's age as Ansible reads it (get_cache_mtime: the mtime of
// /var/lib/apt/periodic/update-success-stamp, else of /var/lib/apt/lists) and the
// host's clock. The plan follows apt.py's install()/remove(): a package is
// installed when missing, when its installed version does not match a pin
// (`name=1.22*`, fnmatch), or with state latest when the candidate differs; removed
// when installed (matching the pin) or, with purge, when its config files remain.
// apt-get runs with DEBIAN_FRONTEND=noninteractive (apt.py's APT_ENV_VARS), passed
// as the command's environment.
import * as z from 'zod';
import { defineModule, ModuleError, type Change, type ModuleContext, type Plan } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import type { ExecResult } from '../src/connection/types.js';

// ---------------------------------------------------------------- arguments

/** Debian policy 5.6.1 (package names: [a-z0-9][a-z0-9+.-]+), optional :arch, optional =version (glob allowed):
 *  so a value can never be read by apt-get as an option. */
const PACKAGE_SPEC = /^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?(?:=[A-Za-z0-9.+~:*?-]+)?$/;
const STATES = ['present', 'installed', 'latest', 'absent', 'removed', 'fixed', 'build-dep'] as const;

const args = () => {
  const packageSpec = z.string().refine((s) => PACKAGE_SPEC.test(s), {
    message: 'a package is name[:arch][=version] (Debian names: lower-case letters, digits, + . -; no wildcards)',
  });
  // Ansible's type='list': a string is split at commas (check_type_list), each package then stripped (apt.py main())
  const commaList = z.string().refine((s) => s.split(',').every((p) => PACKAGE_SPEC.test(p.trim())), {
    message: 'a package is name[:arch][=version] (Debian names: lower-case letters, digits, + . -; no wildcards)',
  });
  const packageList = z
    .union([commaList, z.array(packageSpec)])
    .transform((v) => (Array.isArray(v) ? v : v.split(',').map((p) => p.trim())));
  return z
    .object({
      name: packageList.optional().describe('package(s): name, name=version (fnmatch glob), name:arch (alias: pkg)'),
      pkg: packageList.optional(),
      state: z.enum(STATES).default('present'),
      update_cache: z.boolean().optional().describe('apt-get update first (alias: update-cache)'),
      'update-cache': z.boolean().optional(),
      cache_valid_time: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe('update only when the cache is older (seconds); sets update_cache'),
      deb: z
        .string()
        .refine((p) => p.startsWith('/') && !/[\n\r\0]/.test(p), 'deb must be an absolute path of a .deb on the host')
        .optional(),
      install_recommends: z.boolean().optional().describe("default: the host's apt configuration"),
      purge: z.boolean().default(false),
      autoremove: z.boolean().default(false),
      force_apt_get: z.boolean().default(false).describe('accepted for compatibility; apt-get is always used'),
    })
    .strict()
    .superRefine((a, ctx) => {
      if (a.name && a.pkg)
        ctx.addIssue({ code: 'custom', path: ['pkg'], message: 'give only one of name, pkg (they are aliases)' });
      if (a.update_cache !== undefined && a['update-cache'] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['update-cache'],
          message: 'give only one of update_cache, update-cache',
        });
      const names = a.name ?? a.pkg;
      if (a.deb && names)
        ctx.addIssue({ code: 'custom', path: ['deb'], message: 'deb and name are mutually exclusive' });
      if (a.deb && !['present', 'installed'].includes(a.state))
        ctx.addIssue({ code: 'custom', path: ['deb'], message: 'deb only supports state=present' });
      if (!names && !a.deb && !a.autoremove && !(a.update_cache ?? a['update-cache']) && !a.cache_valid_time)
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: 'one of name, deb, update_cache, autoremove is required',
        });
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const namesOf = (a: Args): string[] => a.name ?? a.pkg ?? [];
const wantsUpdate = (a: Args) => (a.update_cache ?? a['update-cache'] ?? false) || a.cache_valid_time > 0;

/** apt.py's APT_ENV_VARS (its best parsable locale is C). */
export const APT_ENV = {
  DEBIAN_FRONTEND: 'noninteractive',
  DEBIAN_PRIORITY: 'critical',
  LANG: 'C',
  LC_ALL: 'C',
  LC_MESSAGES: 'C',
  LC_CTYPE: 'C',
};
/** apt.py's DPKG_OPTIONS: keep changed conffiles, take the default for the rest, never ask. */
const DPKG_OPTIONS = ['-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];
const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const LISTS = '/var/lib/apt/lists';

// ---------------------------------------------------------------- facts

export interface PackageFacts {
  /** dpkg's status word (installed, config-files, …); absent when dpkg does not know the package */
  status?: string;
  version?: string;
  /** apt's candidate version; absent when apt cannot locate the package */
  candidate?: string;
}

export interface Facts {
  packages: Record<string, PackageFacts>;
  /** mtime (epoch s) of the stamp or the lists directory, 0 when neither exists (get_cache_mtime) */
  cacheMtime: number;
  /** the host's clock (epoch s) */
  now: number;
  /** the .deb's control fields */
  deb?: { name: string; version: string };
  /** `apt-get -s autoremove`: what autoremove would remove */
  autoremovable: string[];
}

interface Spec {
  name: string;
  arch?: string;
  version?: string;
}

export function parseSpec(spec: string): Spec {
  const m = /^([^:=]+)(?::([^=]+))?(?:=(.+))?$/.exec(spec)!;
  return { name: m[1], arch: m[2], version: m[3] };
}

/** `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Status}\n'` lines. */
export function parseDpkgQuery(stdout: string): Record<string, PackageFacts> {
  const out: Record<string, PackageFacts> = {};
  for (const line of stdout.split('\n')) {
    const [name, version, status] = line.split('\t');
    if (!name || status === undefined) continue;
    out[name] = { status, version: version || undefined };
  }
  return out;
}

/** `apt-cache policy` stanzas: "name:\n  Installed: …\n  Candidate: …". (none) is no candidate. */
export function parsePolicy(stdout: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  let cur: string | null = null;
  for (const line of stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) {
      cur = head[1].replace(/:[a-z0-9-]+$/, '');
      out[cur] = undefined;
      continue;
    }
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cur && cand) out[cur] = cand[1] === '(none)' ? undefined : cand[1];
  }
  return out;
}

/** `apt-get -s` lines "Remv name [version]" / "Purg name [version]". */
export function parseSimulatedRemovals(stdout: string): string[] {
  return [...stdout.matchAll(/^(?:Remv|Purg) (\S+)/gm)].map((m) => m[1]);
}

const epoch = (r: ExecResult): number | null =>
  r.rc === 0 && /^\d+/.test(r.stdout) ? Number.parseInt(r.stdout, 10) : null;

async function facts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const names = [...new Set(namesOf(a).map((s) => parseSpec(s).name))];
  const cmds: string[][] = [
    ['date', '+%s'],
    ['stat', '-c', '%Y', STAMP],
    ['stat', '-c', '%Y', LISTS],
  ];
  if (names.length) {
    cmds.push(['dpkg-query', '-W', '--showformat=${Package}\\t${Version}\\t${db:Status-Status}\\n', ...names]);
    cmds.push(['apt-cache', 'policy', ...names]);
  }
  if (a.deb) cmds.push(['dpkg-deb', '--field', a.deb, 'Package', 'Version']);
  if (a.autoremove) cmds.push(['apt-get', '-s', ...(a.purge ? ['--purge'] : []), 'autoremove']);
  const r = await runBatch(ctx, cmds);
  const now = epoch(r[0]);
  if (now === null) throw new ModuleError(`cannot read the host's clock: ${r[0].stderr.trim()}`, { result: r[0] });
  let i = 3;
  const packages: Record<string, PackageFacts> = {};
  if (names.length) {
    const q = r[i++];
    const pol = r[i++];
    if (q.rc !== 0 && q.rc !== 1) throw new ModuleError(`dpkg-query failed: ${q.stderr.trim()}`, { result: q });
    if (pol.rc !== 0) throw new ModuleError(`apt-cache policy failed: ${pol.stderr.trim()}`, { result: pol });
    const known = parseDpkgQuery(q.stdout);
    const candidates = parsePolicy(pol.stdout);
    for (const n of names) packages[n] = { ...(known[n] ?? {}), candidate: candidates[n] };
  }
  let deb: Facts['deb'];
  if (a.deb) {
    const d = r[i++];
    // with several fields, dpkg-deb --field prints them as `Field: value` lines
    const field = (k: string) => new RegExp(`^${k}: *(\\S+)$`, 'm').exec(d.stdout)?.[1];
    const [name, version] = [field('Package'), field('Version')];
    if (d.rc !== 0 || !name || !version)
      throw new ModuleError(`Unable to install package: ${d.stderr.trim() || `${a.deb} is not a Debian package`}`, {
        result: d,
      });
    deb = { name, version };
    if (!(name in packages)) {
      const st = await runBatch(ctx, [
        ['dpkg-query', '-W', '--showformat=${Package}\\t${Version}\\t${db:Status-Status}\\n', name],
      ]);
      packages[name] = parseDpkgQuery(st[0].stdout)[name] ?? {};
    }
  }
  const autoremovable = a.autoremove ? parseSimulatedRemovals(r[i++].stdout) : [];
  return { packages, cacheMtime: epoch(r[1]) ?? epoch(r[2]) ?? 0, now, deb, autoremovable };
}

// ---------------------------------------------------------------- plan

/** fnmatch as apt.py uses it on versions: * and ? (and [...]). */
export function fnmatch(value: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

function line(name: string, p: PackageFacts | undefined, version?: string): string {
  return `${name} ${version ?? (p?.status === 'installed' ? p.version : `(${p?.status ?? 'not installed'})`)}\n`;
}

function plan(f: Facts, a: Args): Plan {
  if (a.state === 'fixed' || a.state === 'build-dep')
    return { changes: [], fail: `state=${a.state} is not supported by phx-play's apt (use present, latest or absent)` };
  const updating = needsUpdate(f, a);
  const changes: Change[] = [];
  const cacheResult = { cache_updated: updating, cache_update_time: f.cacheMtime };
  // apt.py: the update alone is a change only when there is nothing else to do (exit_json(changed=updated_cache));
  // with packages, changed says whether packages changed (apply updates the cache first either way)
  const alone = namesOf(a).length === 0 && !a.deb;
  if (updating && alone) changes.push({ description: 'update the apt cache', apply: () => Promise.resolve() });
  const before: string[] = [];
  const after: string[] = [];
  const specs = namesOf(a).map(parseSpec);
  const removing = a.state === 'absent' || a.state === 'removed';

  if (removing) {
    const targets = specs.filter((s) => {
      const p = f.packages[s.name];
      const installed = p?.status === 'installed' && (s.version === undefined || fnmatch(p.version ?? '', s.version));
      return installed || (a.purge && p?.status === 'config-files');
    });
    const extra = a.autoremove ? f.autoremovable.filter((n) => !targets.some((t) => t.name === n)) : [];
    if (targets.length) {
      const argv = [
        'apt-get',
        '-q',
        '-y',
        ...DPKG_OPTIONS,
        ...(a.purge ? ['--purge'] : []),
        ...(a.autoremove ? ['--auto-remove'] : []),
        'remove',
        ...targets.map((t) => t.name),
      ];
      changes.push({
        description: `${a.purge ? 'purge' : 'remove'} ${targets.map((t) => t.name).join(' ')}`,
        apply: aptGet(argv),
      });
      for (const t of targets) {
        before.push(line(t.name, f.packages[t.name]));
        after.push(line(t.name, undefined, a.purge ? '(not installed)' : '(config-files)'));
      }
      for (const n of extra) {
        before.push(`${n} (installed, no longer needed)\n`);
        after.push(`${n} (removed)\n`);
      }
    } else if (extra.length) changes.push(autoremoveChange(a, extra));
  } else if (a.deb) {
    const d = f.deb!;
    const p = f.packages[d.name];
    if (!(p?.status === 'installed' && p.version === d.version)) {
      changes.push({
        description: `install ${d.name} ${d.version} from ${a.deb}`,
        apply: aptGet(['dpkg', '--force-confdef', '--force-confold', '-i', a.deb]),
      });
      before.push(line(d.name, p));
      after.push(line(d.name, undefined, d.version));
    }
  } else if (specs.length) {
    const install: string[] = [];
    const missing: string[] = [];
    for (const s of specs) {
      const p = f.packages[s.name] ?? {};
      const installed = p.status === 'installed';
      const versionOk = installed && (s.version === undefined || fnmatch(p.version ?? '', s.version));
      // apt.py package_status: no candidate and nothing installed → "No package matching"; after an
      // update the lists may know it, so the check waits for apply
      if (!installed && p.candidate === undefined && !updating) missing.push(s.name);
      const candidateOk = s.version === undefined || (p.candidate !== undefined && fnmatch(p.candidate, s.version));
      const wanted =
        !installed || !versionOk || (a.state === 'latest' && p.candidate !== undefined && p.candidate !== p.version);
      if (!wanted) continue;
      // apt.py install(): name=version_installable (the candidate) or name=version as asked
      const pin = s.version !== undefined && !candidateOk ? s.version : p.candidate;
      const arch = s.arch ? `:${s.arch}` : '';
      install.push(
        pin && !updating ? `${s.name}${arch}=${pin}` : `${s.name}${arch}${s.version ? `=${s.version}` : ''}`,
      );
      before.push(line(s.name, p));
      after.push(line(s.name, undefined, pin ?? '(candidate after the cache update)'));
    }
    if (missing.length)
      return { changes: [], fail: `No package matching '${missing[0]}' is available`, result: cacheResult };
    if (install.length) {
      const recommends =
        a.install_recommends === undefined
          ? []
          : ['-o', `APT::Install-Recommends=${a.install_recommends ? 'yes' : 'no'}`];
      const argv = [
        'apt-get',
        '-y',
        '-q',
        ...DPKG_OPTIONS,
        ...(a.autoremove ? ['--auto-remove'] : []),
        'install',
        ...install,
        ...recommends,
      ];
      changes.push({
        description: `install ${install.join(' ')}`,
        apply: aptGet(argv, updating ? install : undefined),
      });
    } else if (a.autoremove && f.autoremovable.length) changes.push(autoremoveChange(a, f.autoremovable));
  } else if (a.autoremove && f.autoremovable.length) changes.push(autoremoveChange(a, f.autoremovable));

  return {
    changes,
    result: cacheResult,
    diff: before.length
      ? { before: before.join(''), after: after.join(''), before_header: 'packages', after_header: 'packages' }
      : undefined,
  };
}

/** apt.py main(): update when asked (update_cache or cache_valid_time) and `mtime + cache_valid_time >= now` fails. */
function needsUpdate(f: Facts, a: Args): boolean {
  return wantsUpdate(a) && !(f.cacheMtime + a.cache_valid_time >= f.now);
}

function autoremoveChange(a: Args, names: string[]): Change {
  return {
    description: `autoremove ${names.join(' ')}`,
    apply: aptGet(['apt-get', '-y', ...DPKG_OPTIONS, ...(a.purge ? ['--purge'] : []), 'autoremove']),
  };
}

// ---------------------------------------------------------------- apply

/** The outputs of this task's apt-get runs, registered as stdout/stderr (apt.py returns apt-get's). */
const outputs = new WeakMap<ModuleContext, { stdout: string; stderr: string; updated: boolean }>();

function record(ctx: ModuleContext, r: ExecResult): void {
  const o = outputs.get(ctx) ?? { stdout: '', stderr: '', updated: false };
  o.stdout += r.stdout;
  o.stderr += r.stderr;
  outputs.set(ctx, o);
}

async function updateCache(ctx: ModuleContext): Promise<void> {
  const r = await ctx.run(['apt-get', 'update', '-q'], { env: APT_ENV, okExit: 'any' });
  if (r.rc !== 0)
    throw new ModuleError(`Failed to update apt cache: ${r.stderr.trim() || `exit code ${r.rc}`}`, { result: r });
  const o = outputs.get(ctx) ?? { stdout: '', stderr: '', updated: false };
  o.updated = true;
  outputs.set(ctx, o);
}

/** Runs one apt-get/dpkg command. `recheck`: packages asked for before the cache update, which apt
 *  must now know, else apt.py's "No package matching" (checked with apt-cache policy, as apt-get
 *  itself would only say "Unable to locate package"). */
function aptGet(argv: string[], recheck?: string[]): (ctx: ModuleContext) => Promise<void> {
  return async (ctx) => {
    if (recheck) {
      const names = recheck.map((s) => parseSpec(s).name);
      const pol = await runBatch(ctx, [
        ['apt-cache', 'policy', ...names],
        ['dpkg-query', '-W', '--showformat=${Package}\\t${db:Status-Status}\\n', ...names],
      ]);
      const cand = parsePolicy(pol[0].stdout);
      const installed = pol[1].stdout;
      const missing = names.find((n) => cand[n] === undefined && !installed.includes(`${n}\tinstalled`));
      if (missing) throw new ModuleError(`No package matching '${missing}' is available`, { result: pol[0] });
    }
    const r = await ctx.run(argv, { env: APT_ENV, okExit: 'any' });
    record(ctx, r);
    if (r.rc !== 0)
      throw new ModuleError(`'${argv.join(' ')}' failed: ${r.stderr.trim() || r.stdout.trim()}`, { result: r });
  };
}

async function apply(ctx: ModuleContext, p: Plan, a: Args, f: Facts): Promise<Record<string, unknown>> {
  if (needsUpdate(f, a)) await updateCache(ctx);
  for (const c of p.changes) await c.apply!(ctx);
  const o = outputs.get(ctx);
  const extra: Record<string, unknown> = {};
  if (o?.updated) {
    const t = await runBatch(ctx, [
      ['stat', '-c', '%Y', STAMP],
      ['stat', '-c', '%Y', LISTS],
    ]);
    extra.cache_update_time = epoch(t[0]) ?? epoch(t[1]) ?? 0;
  }
  if (o && (o.stdout || o.stderr)) Object.assign(extra, { stdout: o.stdout, stderr: o.stderr });
  return extra;
}

export default defineModule<Args, Facts>({
  name: 'apt',
  aliases: ['ansible.builtin.apt', 'ansible.legacy.apt'],
  description: 'Debian packages: install, upgrade, remove; the apt cache (Ansible apt)',
  args,
  facts,
  plan: (f, a) => plan(f, a),
  apply,
  verify: {
    // the cache was updated once; converged means the packages are as asked
    steady: (a) => ({ ...a, update_cache: false, 'update-cache': undefined, cache_valid_time: 0 }),
  },
});
