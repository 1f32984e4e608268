// pct: one LXC container — created from a template (unprivileged given at
// create, the only time PVE accepts it) or cloned, settings converged with
// `pct set` (only differing keys, property strings as key/value sets), mount
// points found by their container path, power state, and the restart a pending
// change needs. Reads config, status and pending in one round trip.
import * as z from 'zod';
import {
  defineModule,
  type Change,
  type ModuleContext,
  type Plan,
  type PlanContext,
  type Verify,
} from '../src/module.js';
import {
  ctConfPath,
  effectiveConfig,
  isMissingCt,
  lowestFreeMpIndex,
  mountPoints,
  parsePctConfig,
  parsePctStatus,
  parsePropertyString,
  pendingFromFile,
  pendingKeys,
  samePath,
  isAllocation,
  setStaysPending,
  valuesMatch,
  type PctConfig,
  type PendingEntry,
} from '../src/proxmox/pct-config.js';
import { containerRoot, isUnprivileged } from '../src/proxmox/idmap.js';
import { ModuleError } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import { activeCtsArgv, parseActiveCts, UNIX_SOCKETS_FILE } from '../src/proxmox/lxc-running.js';
import { printPropertyString } from '../src/encode/property-string.js';
import { noNul, oneLine, operand, propertyRecord, propertyString, propertyValue } from '../src/encode/schemas.js';
import { sleep } from '../src/sleep.js';
import { parseSize } from '../src/proxmox/sizes.js';
import { containerSlot, predictedHostPath, type Predictions } from '../src/predictions.js';
import { once } from '../src/once.js';

// ---------------------------------------------------------------- arguments

/** A property string key (`net0`, `features`, …): the user's own string, or a mapping printed by printPropertyString. */
const propertyArg = (defaultKey?: string) => z.union([propertyString(defaultKey), propertyRecord()]);

/** Mount point keys the task sets itself: in options they would replace the path or volume. */
const OWN_MOUNT_KEYS = ['mp', 'volume'];

/** Built on first use, as the whole argument schema is (src/module.ts ModuleSpec). */
const settingsShape = once(() => ({
  hostname: operand().min(1).optional(),
  cores: z.number().int().positive().optional(),
  memory: z.number().int().positive().optional(),
  swap: z.number().int().nonnegative().optional(),
  cpulimit: z.number().nonnegative().optional(),
  cpuunits: z.number().int().nonnegative().optional(),
  onboot: z.boolean().optional(),
  protection: z.boolean().optional(),
  description: noNul().optional().describe('may hold line breaks: PVE writes them as # comment lines'),
  features: propertyArg().optional(),
  startup: propertyArg('order').optional(),
  nameserver: oneLine().optional(),
  searchdomain: oneLine().optional(),
  tags: oneLine().optional(),
  ostype: oneLine().optional(),
  arch: oneLine().optional(),
  net0: propertyArg().optional(),
  net1: propertyArg().optional(),
  net2: propertyArg().optional(),
  net3: propertyArg().optional(),
  net4: propertyArg().optional(),
  net5: propertyArg().optional(),
  net6: propertyArg().optional(),
  net7: propertyArg().optional(),
  net8: propertyArg().optional(),
  net9: propertyArg().optional(),
}));

const settingKeys = () => Object.keys(settingsShape());

const args = () => {
  const ctidArg = z
    .union([z.number().int(), z.string().regex(/^\d+$/, { message: 'must be a number like 105' })])
    .transform((v) => Number(v))
    .pipe(z.number().int().min(100, { message: 'CT ids start at 100' }).max(999999999));
  // Every value below is checked by the encoders' zod forms, so a literal one that
  // would add a key (a `,` in a property value, a line break in a config line) is a
  // validation error and a templated one fails the task before any command.
  const scalar = z.union([oneLine(), z.number(), z.boolean()]);
  const propertyScalar = z.union([propertyValue(), z.number(), z.boolean()]);
  const mountArg = z
    .object({
      path: propertyValue().startsWith('/', { message: 'must be an absolute path inside the container' }),
      volume: propertyValue()
        .min(1)
        .optional()
        .describe('host directory (bind mount), storage:volume, or storage:<GiB> to allocate'),
      state: z.enum(['present', 'absent']).default('present'),
      ro: z.boolean().optional(),
      backup: z.boolean().optional(),
      options: z
        .record(z.string().regex(/^[a-z]+$/, { message: 'not a mount point key' }), propertyScalar)
        .optional()
        .describe('other mount point keys: acl, quota, replicate, shared, mountoptions, size'),
    })
    .strict()
    .superRefine((m, c) => {
      for (const k of Object.keys(m.options ?? {}))
        if (OWN_MOUNT_KEYS.includes(k))
          c.addIssue({
            code: 'custom',
            message: `use the ${k === 'mp' ? 'path' : 'volume'} argument, not options.${k}`,
            path: ['options', k],
          });
    })
    .refine((m) => m.state === 'absent' || m.volume !== undefined, {
      message: 'a present mount needs volume (host path or storage:volume)',
    });
  return z
    .object({
      ctid: ctidArg,
      state: z.enum(['present', 'started', 'stopped', 'absent', 'restarted']).default('present'),
      ostemplate: operand().min(1).optional().describe('e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst'),
      clone_from: ctidArg.optional(),
      full: z.boolean().optional(),
      snapname: operand().optional(),
      unprivileged: z
        .boolean()
        .optional()
        .describe('fixed at creation; default true, always sent to pct create (PVE 8 itself defaults to privileged)'),
      storage: operand().optional(),
      rootfs: propertyString('volume').optional(),
      ...settingsShape(),
      config: z
        .record(z.string().regex(/^[a-z][a-z0-9_-]*$/, { message: 'not a pct option name' }), scalar)
        .optional()
        .describe('other pct options, by their pct name'),
      mounts: z.array(mountArg).optional(),
      restart: z
        .enum(['if_needed', 'never'])
        .default('never')
        .describe('if_needed: stop and start a running CT that has pending changes'),
      lock_timeout: z.number().positive().default(120).describe('seconds to wait for a lock (e.g. create) to clear'),
      shutdown_timeout: z
        .number()
        .int()
        .nonnegative()
        .default(60)
        .describe('seconds `pct shutdown` waits for the CT to stop (its --timeout)'),
      force_stop: z
        .boolean()
        .default(false)
        .describe(
          'a CT that does not shut down within shutdown_timeout is killed (--forceStop 1); else the task fails',
        ),
      force_protection: z
        .boolean()
        .default(false)
        .describe(
          'state absent: clear protection (pct set --protection 0) before destroying; else a protected CT is refused',
        ),
      purge: z
        .boolean()
        .default(false)
        .describe(
          'state absent: also remove the CT from HA resources, replication and backup jobs (pct destroy --purge 1)',
        ),
    })
    .strict()
    .superRefine((a, c) => {
      if (a.ostemplate !== undefined && a.clone_from !== undefined)
        c.addIssue({ code: 'custom', message: 'give either ostemplate or clone_from, not both', path: ['clone_from'] });
      if (a.clone_from !== undefined && a.clone_from === a.ctid)
        c.addIssue({ code: 'custom', message: 'a CT cannot be cloned from itself', path: ['clone_from'] });
      if (a.config) {
        for (const k of Object.keys(a.config)) {
          if (k === 'unprivileged')
            c.addIssue({
              code: 'custom',
              message: 'unprivileged is fixed at creation: use the unprivileged argument',
              path: ['config', k],
            });
          else if (settingKeys().includes(k) || /^mp\d+$/.test(k))
            c.addIssue({
              code: 'custom',
              message: `use the ${/^mp\d+$/.test(k) ? 'mounts' : k} argument instead`,
              path: ['config', k],
            });
        }
      }
      const paths = new Set<string>();
      for (const [i, m] of (a.mounts ?? []).entries()) {
        const p = m.path.replace(/\/+$/, '') || '/';
        if (paths.has(p))
          c.addIssue({ code: 'custom', message: `mount path ${m.path} is listed twice`, path: ['mounts', i, 'path'] });
        paths.add(p);
      }
    });
};

export type PctArgs = z.output<ReturnType<typeof args>>;

// ---------------------------------------------------------------- facts

export interface CtState {
  config: PctConfig;
  status: string;
  pending: PendingEntry[];
}

export interface PctFacts {
  ctid: number;
  /** undefined: no such CT */
  ct?: CtState;
  /** the clone source, when clone_from is given and the CT is missing */
  source?: CtState | null;
  /** lock still held after lock_timeout */
  stillLocked?: string;
  /** a read failed for another reason than a missing CT */
  error?: string;
  /** bind mount sources (host directories) of `mounts` that do not exist */
  missingBindSources?: string[];
  /** state absent: the CT is an HA resource (/etc/pve/ha/resources.cfg) */
  haResource?: boolean;
  /** state absent: its replication job ids (/etc/pve/replication.cfg) */
  replicationJobs?: string[];
}

export const HA_RESOURCES = '/etc/pve/ha/resources.cfg';
export const REPLICATION_CFG = '/etc/pve/replication.cfg';

/** Section-config headers (`type: id`) of an /etc/pve file. */
function sectionHeaders(text: string): Array<{ type: string; id: string }> {
  const out: Array<{ type: string; id: string }> = [];
  for (const line of text.split('\n')) {
    const h = /^(\S+):\s*(\S+)\s*$/.exec(line);
    if (h) out.push({ type: h[1], id: h[2] });
  }
  return out;
}

/** PVE::HA::Config::service_is_configured("ct:<id>"): a `ct: <id>` section. */
export function isHaResource(resourcesCfg: string, ctid: number): boolean {
  return sectionHeaders(resourcesCfg).some(
    (s) => (s.type === 'ct' && s.id === String(ctid)) || (s.type === 'service' && s.id === `ct:${ctid}`),
  );
}

/** ReplicationConfig::parse_section_header: job ids are `<guest>-<n>`. */
export function replicationJobsOf(replicationCfg: string, ctid: number): string[] {
  return sectionHeaders(replicationCfg)
    .map((s) => s.id)
    .filter((id) => new RegExp(`^${ctid}-\\d+$`).test(id));
}

/** A mount point volume that is a host directory (bind mount): PVE never creates or chowns it. */
const isBindVolume = (v: string) => v.startsWith('/') && !v.startsWith('/dev/');

/** The CT's own config file (what pct config reads); its [pve:pending] section is the pending list. */
export const confPath = ctConfPath;

/**
 * Reads the config files and which CTs run (src/proxmox/lxc-running.ts: what
 * `pct status` decides from, without starting pct): one round trip, no Proxmox tool.
 */
async function readCt(
  ctx: ModuleContext,
  ctid: number,
  withSource?: number,
  bindSources: string[] = [],
): Promise<Omit<PctFacts, 'ctid' | 'stillLocked'>> {
  const ids = [ctid, ...(withSource !== undefined ? [withSource] : [])];
  const cmds = [activeCtsArgv(), ...ids.map((id) => ['cat', '--', confPath(id)])];
  for (const src of bindSources) cmds.push(['test', '-d', src]);
  const [active, ...r] = await runBatch(ctx, cmds);
  // a host where that file cannot be read: ask pct, as before
  const running =
    active.rc === 0
      ? parseActiveCts(active.stdout)
      : await runningByPct(
          ctx,
          ids.filter((_, i) => r[i].rc === 0),
          `${UNIX_SOCKETS_FILE}: ${active.stderr.trim() || `exit code ${active.rc}`}`,
        );
  if (typeof running === 'string') return { error: running };
  const missingBindSources = bindSources.filter((_, i) => r[ids.length + i].rc !== 0);
  const one = (i: number): CtState | null | string => {
    const cfg = r[i];
    if (cfg.rc !== 0)
      return /No such file or directory/.test(cfg.stderr)
        ? null
        : `reading ${confPath(ids[i])} failed: ${cfg.stderr.trim() || `exit code ${cfg.rc}`}`;
    const file = parsePctConfig(cfg.stdout);
    const status = running.has(ids[i]) ? 'running' : 'stopped';
    return { config: effectiveConfig(file), status, pending: pendingFromFile(file) };
  };
  const out: Omit<PctFacts, 'ctid' | 'stillLocked'> = missingBindSources.length ? { missingBindSources } : {};
  const ct = one(0);
  if (typeof ct === 'string') out.error = ct;
  else if (ct) out.ct = ct;
  if (withSource !== undefined) {
    const src = one(1);
    if (typeof src === 'string') out.error ??= src;
    else out.source = src;
  }
  return out;
}

/** The running CTs among `ids` by `pct status` (one round trip), or what went wrong. */
async function runningByPct(ctx: ModuleContext, ids: number[], why: string): Promise<Set<number> | string> {
  const out = new Set<number>();
  const r = await runBatch(
    ctx,
    ids.map((id) => ['pct', 'status', String(id)]),
  );
  for (const [i, st] of r.entries()) {
    if (st.rc !== 0 && !isMissingCt(st.stderr))
      return `pct status ${ids[i]} failed (${why}): ${st.stderr.trim() || `exit code ${st.rc}`}`;
    if (st.rc === 0 && parsePctStatus(st.stdout) === 'running') out.add(ids[i]);
  }
  return out;
}

/** Polls until the CT has no `lock:` (bounded). Returns the lock still held, if any. */
async function waitUnlocked(ctx: ModuleContext, ctid: number, timeoutS: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const r = await ctx.run(['cat', '--', confPath(ctid)], { okExit: 'any' });
    if (r.rc !== 0) {
      if (/No such file or directory/.test(r.stderr)) return undefined;
      throw new ModuleError(`reading ${confPath(ctid)} failed while waiting for its lock: ${r.stderr.trim()}`, {
        result: r,
      });
    }
    const lock = parsePctConfig(r.stdout).keys.lock;
    if (lock === undefined) return undefined;
    if (Date.now() + 500 > deadline || ctx.signal.aborted) return lock;
    ctx.log(`CT ${ctid} is locked (${lock}); waiting`);
    await sleep(500);
  }
}

/** The cluster files `pct destroy` checks: HA resources and replication jobs (missing file: none). */
async function readClusterGuards(
  ctx: ModuleContext,
  ctid: number,
): Promise<Pick<PctFacts, 'haResource' | 'replicationJobs' | 'error'>> {
  const catIfExists = (path: string) => ['sh', '-c', 'test ! -e "$1" || exec cat -- "$1"', 'sh', path];
  const [ha, repl] = await runBatch(ctx, [catIfExists(HA_RESOURCES), catIfExists(REPLICATION_CFG)]);
  for (const [r, path] of [
    [ha, HA_RESOURCES],
    [repl, REPLICATION_CFG],
  ] as const)
    if (r.rc !== 0) return { error: `reading ${path} failed: ${r.stderr.trim() || `exit code ${r.rc}`}` };
  return { haResource: isHaResource(ha.stdout, ctid), replicationJobs: replicationJobsOf(repl.stdout, ctid) };
}

async function facts(ctx: ModuleContext, a: PctArgs): Promise<PctFacts> {
  const binds = [
    ...new Set((a.mounts ?? []).filter((m) => m.state === 'present' && isBindVolume(m.volume!)).map((m) => m.volume!)),
  ];
  let r = await readCt(ctx, a.ctid, a.clone_from, binds);
  const f: PctFacts = { ctid: a.ctid };
  if (r.ct?.config.keys.lock !== undefined) {
    const still = await waitUnlocked(ctx, a.ctid, a.lock_timeout);
    if (still !== undefined) f.stillLocked = still;
    else r = await readCt(ctx, a.ctid, a.clone_from, binds);
  }
  const guards = a.state === 'absent' && r.ct ? await readClusterGuards(ctx, a.ctid) : {};
  return { ...f, ...guards, ...r, ...(guards.error && !r.error ? { error: guards.error } : {}) };
}

/**
 * Check mode: the CT (and the clone source) as earlier tasks would leave them;
 * a bind source an earlier task would create (a path or a dataset mountpoint) is not missing.
 */
function overlay(f: PctFacts, a: PctArgs, predicted: Predictions): PctFacts {
  const out = { ...f };
  const asState = (ctid: number) => {
    const p = containerSlot.get(predicted, ctid);
    return p ? { config: p.config, status: p.status, pending: [] } : null;
  };
  if (containerSlot.has(predicted, a.ctid)) out.ct = asState(a.ctid) ?? undefined;
  if (a.clone_from !== undefined && containerSlot.has(predicted, a.clone_from)) out.source = asState(a.clone_from);
  if (f.missingBindSources)
    out.missingBindSources = f.missingBindSources.filter((src) => predictedHostPath(predicted, src)?.type !== 'd');
  return out;
}

// ---------------------------------------------------------------- plan

function valueString(v: string | number | boolean | Record<string, string | number | boolean>): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  return printPropertyString(
    undefined,
    Object.entries(v).map(([k, x]) => [k, valueString(x)]),
  );
}

/** The pct options (other than mounts) the task asks for, as pct strings. */
export function wantedSettings(a: PctArgs): Record<string, string> {
  const out: Record<string, string> = {};
  const rec = a as unknown as Record<string, unknown>;
  for (const k of settingKeys()) {
    const v = rec[k];
    if (v !== undefined) out[k] = valueString(v as string);
  }
  for (const [k, v] of Object.entries(a.config ?? {})) out[k] = valueString(v);
  return out;
}

export function mountValue(m: NonNullable<PctArgs['mounts']>[number]): string {
  const props: Record<string, string> = { mp: m.path.length > 1 ? m.path.replace(/\/+$/, '') : m.path };
  if (m.ro !== undefined) props.ro = m.ro ? '1' : '0';
  if (m.backup !== undefined) props.backup = m.backup ? '1' : '0';
  for (const [k, v] of Object.entries(m.options ?? {})) props[k] = valueString(v);
  return printMount(m.volume, props);
}

/** A mount point's property string in PVE's order (volume, mp, the other keys sorted), every value checked. */
function printMount(volume: string | undefined, props: Record<string, string>): string {
  const keys = Object.keys(props).sort((x, y) => (x === 'mp' ? -1 : y === 'mp' ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return printPropertyString(
    volume,
    keys.map((k) => [k, props[k]]),
  );
}

export interface ConfigEdit {
  /** key → new value for `pct set --key value` */
  set: Record<string, string>;
  /** keys for `pct set --delete` */
  delete: string[];
  /** keys that would stay pending on a running CT */
  pending: string[];
  /** mount point → new size for `pct resize` (a wanted `storage:<GiB>` larger than the volume) */
  resize?: Record<string, string>;
}

/**
 * What `pct set` must change so `cfg` has the wanted settings and mounts.
 * Mounts are matched by container path; a new one takes the lowest free mpN.
 */
export function configEdit(cfg: PctConfig, a: PctArgs): ConfigEdit {
  const edit: ConfigEdit = { set: {}, delete: [], pending: [] };
  for (const [k, v] of Object.entries(wantedSettings(a))) {
    if (!valuesMatch(k, v, cfg.keys[k])) {
      edit.set[k] = /^net\d+$/.test(k) ? keepHwaddr(v, cfg.keys[k]) : v;
      if (setStaysPending(k, cfg.keys[k] === undefined)) edit.pending.push(k);
    }
  }
  mountsEdit(cfg, a.mounts ?? [], edit);
  return edit;
}

/**
 * A changed netN keeps the CT's MAC: without hwaddr, pct generates a new one
 * (LXC::Config::update_pct_config → print_lxc_network fills a random hwaddr),
 * and on a running CT the veth is recreated.
 */
function keepHwaddr(want: string, have: string | undefined): string {
  if (have === undefined) return want;
  const hwaddr = parsePropertyString(have).props.hwaddr;
  const w = parsePropertyString(want);
  if (hwaddr === undefined || w.props.hwaddr !== undefined) return want;
  return `${want},hwaddr=${hwaddr}`;
}

const GiB = 1024n ** 3n;

/**
 * What an existing volume mount point gets when the task gives `storage:<GiB>`:
 * pct would allocate a new empty volume for it ($NEW_DISK_RE, apply_pending_mountpoint)
 * and leave the data as unusedN, so the existing volume id is sent with the wanted
 * properties; a larger size is a `pct resize`, a smaller one is refused.
 */
function existingVolumeMount(
  have: { key: string; volume: string; value: string },
  m: NonNullable<PctArgs['mounts']>[number],
  edit: ConfigEdit,
): string {
  const [storage, gib] = m.volume!.split(':');
  const haveStorage = have.volume.split(':')[0];
  if (storage !== haveStorage)
    throw new ModuleError(
      `${have.key} (${m.path}) is ${have.volume}; moving it to storage ${storage} is a pct move-volume, not done here (pct set would allocate a new empty volume)`,
    );
  const haveSize = parsePropertyString(have.value).props.size;
  const haveBytes = haveSize !== undefined ? parseSize(haveSize) : undefined;
  const wantBytes = BigInt(Math.round(Number(gib) * 1024 ** 3));
  if (haveBytes !== undefined && wantBytes < haveBytes)
    throw new ModuleError(
      `${have.key} (${m.path}) is ${haveSize}; shrinking it to ${gib}G is not possible (pct resize: "unable to shrink disk size")`,
    );
  if (haveBytes !== undefined && wantBytes > haveBytes) {
    (edit.resize ??= {})[have.key] = wantBytes % GiB === 0n ? `${wantBytes / GiB}G` : `${wantBytes / 1024n ** 2n}M`;
  }
  // size= is PVE's record of the volume (rescanned when the change applies): not sent
  const want = parsePropertyString(mountValue(m));
  delete want.props.size;
  return printMount(have.volume, want.props);
}

/** Adds to `edit` what the mounts need: matched by container path, new ones at the lowest free mpN. */
function mountsEdit(cfg: PctConfig, mounts: NonNullable<PctArgs['mounts']>, edit: ConfigEdit): void {
  const existing = mountPoints(cfg);
  const used = new Set(existing.map((m) => m.index));
  for (const m of mounts) {
    const have = existing.find((e) => samePath(e.path, m.path));
    if (m.state === 'absent') {
      if (have) {
        edit.delete.push(have.key);
        edit.pending.push(have.key);
      }
      continue;
    }
    if (have) {
      const existingVolume = isAllocation(m.volume!) && !isBindVolume(have.volume) && !have.volume.startsWith('/dev/');
      const want = existingVolume ? existingVolumeMount(have, m, edit) : mountValue(m);
      if (!valuesMatch(have.key, want, have.value)) {
        edit.set[have.key] = want;
        edit.pending.push(have.key);
      }
      continue;
    }
    const free = lowestFreeMpIndex(used);
    if (free === undefined) throw new ModuleError('no free mount point index (mp0 … mp255 are all used)');
    used.add(free);
    edit.set[`mp${free}`] = mountValue(m);
  }
}

function applyEdit(cfg: PctConfig, edit: ConfigEdit): PctConfig {
  const keys = { ...cfg.keys, ...edit.set };
  for (const k of edit.delete) delete keys[k];
  for (const [k, size] of Object.entries(edit.resize ?? {})) {
    const p = parsePropertyString(keys[k]);
    keys[k] = printMount(p.volume, { ...p.props, size });
  }
  return { keys, lxc: [...cfg.lxc] };
}

function editArgv(ctid: number, edit: ConfigEdit): string[] {
  const argv = ['pct', 'set', String(ctid)];
  for (const k of Object.keys(edit.set).sort(mpLast)) argv.push(`--${k}`, edit.set[k]);
  if (edit.delete.length > 0) argv.push('--delete', edit.delete.join(','));
  return argv;
}

function mpLast(a: string, b: string): number {
  const ma = /^mp(\d+)$/.exec(a);
  const mb = /^mp(\d+)$/.exec(b);
  if (ma && mb) return Number(ma[1]) - Number(mb[1]);
  if (ma) return 1;
  if (mb) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function resizeChanges(ctid: number, edit: ConfigEdit): Change[] {
  return Object.entries(edit.resize ?? {}).map(([k, size]) => ({
    description: `resize CT ${ctid} ${k} to ${size}`,
    argv: ['pct', 'resize', String(ctid), k, size],
  }));
}

function describeEdit(edit: ConfigEdit): string {
  const parts = Object.keys(edit.set)
    .sort(mpLast)
    .map((k) => `${k}=${edit.set[k].replace(/\n/g, '\\n')}`);
  if (edit.delete.length) parts.push(`delete ${edit.delete.join(',')}`);
  return parts.join(', ');
}

export function configText(cfg: PctConfig | undefined): string {
  if (!cfg) return '';
  const lines = Object.keys(cfg.keys)
    .sort()
    .map((k) => `${k}: ${cfg.keys[k].replace(/\n/g, '\\n')}`);
  for (const e of cfg.lxc) lines.push(`${e.key}: ${e.value}`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The config `pct create` would write, as far as it matters to later tasks. */
function createdConfig(a: PctArgs, mountsEdit: Record<string, string>): PctConfig {
  const keys: Record<string, string> = { ...wantedSettings(a), ...mountsEdit };
  keys.rootfs = a.rootfs ?? `${a.storage ?? 'local'}:4`;
  if (a.unprivileged ?? true) keys.unprivileged = '1';
  keys.arch ??= 'amd64';
  return { keys, lxc: [] };
}

function createArgv(a: PctArgs, set: Record<string, string>): string[] {
  const argv = ['pct', 'create', String(a.ctid), a.ostemplate!, '--unprivileged', (a.unprivileged ?? true) ? '1' : '0'];
  if (a.storage !== undefined) argv.push('--storage', a.storage);
  if (a.rootfs !== undefined) argv.push('--rootfs', a.rootfs);
  for (const k of Object.keys(set).sort(mpLast)) argv.push(`--${k}`, set[k]);
  return argv;
}

function cloneArgv(a: PctArgs): string[] {
  const argv = ['pct', 'clone', String(a.clone_from), String(a.ctid)];
  if (a.hostname !== undefined) argv.push('--hostname', a.hostname);
  if (a.full !== undefined) argv.push('--full', a.full ? '1' : '0');
  if (a.storage !== undefined) argv.push('--storage', a.storage);
  if (a.snapname !== undefined) argv.push('--snapname', a.snapname);
  return argv;
}

function waitChange(a: PctArgs): Change {
  return {
    description: `wait for CT ${a.ctid}'s lock to clear`,
    apply: async (ctx) => {
      const still = await waitUnlocked(ctx, a.ctid, a.lock_timeout);
      if (still !== undefined)
        throw new ModuleError(`CT ${a.ctid} is still locked (${still}) after ${a.lock_timeout} s`);
    },
  };
}

function mountsResult(cfg: PctConfig) {
  return mountPoints(cfg).map((m) => ({ key: m.key, path: m.path, volume: m.volume }));
}

/** The CT as a plan fragment leaves it, and the changes that get it there. */
interface Step {
  changes: Change[];
  ct: CtState;
}

/** A fragment either adds a step or refuses (the task fails, nothing is applied). */
type Fragment<T = Step> = T | { refuse: string };

const refused = <T>(x: Fragment<T>): x is { refuse: string } => typeof x === 'object' && x !== null && 'refuse' in x;

/**
 * state: absent — refused before anything is stopped where `pct destroy` would refuse
 * (API2::LXC destroy_vm: check_protection, HA resource without purge, replication jobs
 * without purge); else lift protection (force_protection), stop if running, destroy.
 */
function planAbsent(f: PctFacts, a: PctArgs): Plan {
  const current = f.ct;
  const gone = { ctid: a.ctid, status: 'absent', created: false };
  if (!current) return { changes: [], result: gone, msg: `CT ${a.ctid} does not exist` };
  const id = String(a.ctid);
  const protectedCt = current.config.keys.protection === '1';
  const untouched = `CT ${a.ctid} was not touched`;
  if (protectedCt && !a.force_protection)
    return {
      changes: [],
      fail: `CT ${a.ctid} is protected (protection: 1): pct destroy refuses it ("can't remove CT ${a.ctid} - protection mode enabled"); set force_protection: true to lift it, or run pct set ${a.ctid} --protection 0; ${untouched}`,
    };
  if (f.haResource && !a.purge)
    return {
      changes: [],
      fail: `CT ${a.ctid} is an HA resource (ct:${a.ctid} in ${HA_RESOURCES}): pct destroy refuses it ("unable to remove CT ${a.ctid} - used in HA resources and purge parameter not set."); run ha-manager remove ct:${a.ctid} first, or set purge: true; ${untouched}`,
    };
  const jobs = f.replicationJobs ?? [];
  if (jobs.length > 0 && !a.purge)
    return {
      changes: [],
      fail: `CT ${a.ctid} has replication jobs (${jobs.join(', ')} in ${REPLICATION_CFG}): pct destroy refuses it; run ${jobs.map((j) => `pvesr delete ${j}`).join(' and ')} first, or set purge: true; ${untouched}`,
    };
  const changes: Change[] = [];
  if (protectedCt)
    changes.push({ description: `lift CT ${a.ctid}'s protection`, argv: ['pct', 'set', id, '--protection', '0'] });
  const purge = a.purge ? ['--purge', '1'] : [];
  if (current.status === 'running' && f.haResource)
    // an HA-managed CT is stopped by destroy itself, through ha-manager (destroy_vm with force)
    changes.push({
      description: `stop and destroy CT ${a.ctid}`,
      argv: ['pct', 'destroy', id, '--force', '1', ...purge],
    });
  else {
    if (current.status === 'running') changes.push({ description: `stop CT ${a.ctid}`, argv: ['pct', 'stop', id] });
    changes.push({ description: `destroy CT ${a.ctid}`, argv: ['pct', 'destroy', id, ...purge] });
  }
  return {
    changes,
    result: gone,
    msg: changes.map((c) => c.description).join('; '),
    diff: {
      before: configText(current.config),
      after: '',
      before_header: `CT ${a.ctid}`,
      after_header: `CT ${a.ctid}`,
    },
    predict: [containerSlot.entry(a.ctid, null)],
  };
}

/** A missing CT from ostemplate: `pct create` with every setting and mount at once (unprivileged only here). */
function planCreate(a: PctArgs): Fragment {
  if (a.ostemplate === undefined)
    return { refuse: `CT ${a.ctid} does not exist; give ostemplate (or clone_from) to create it` };
  const initial: ConfigEdit = { set: {}, delete: [], pending: [] };
  mountsEdit({ keys: {}, lxc: [] }, a.mounts ?? [], initial);
  const set = { ...wantedSettings(a), ...initial.set };
  return {
    changes: [
      {
        description: `create CT ${a.ctid} from ${a.ostemplate} (${(a.unprivileged ?? true) ? 'unprivileged' : 'privileged'})`,
        argv: createArgv(a, set),
      },
      waitChange(a),
    ],
    ct: { config: createdConfig(a, initial.set), status: 'stopped', pending: [] },
  };
}

/** A missing CT from clone_from: `pct clone`, refused where pct would refuse it. */
function planClone(src: CtState | null | undefined, a: PctArgs): Fragment {
  if (!src)
    return { refuse: `CT ${a.ctid} does not exist and its clone_from CT ${a.clone_from} does not exist either` };
  const bind = mountPoints(src.config).find((m) => isBindVolume(m.volume) || m.volume.startsWith('/dev/'));
  if (bind)
    return {
      refuse: `cannot clone CT ${a.clone_from}: its ${bind.key} is a bind/device mount (${bind.volume}); pct refuses to clone it (remove it from the source; list it in mounts to add it after the clone)`,
    };
  if (a.unprivileged !== undefined && a.unprivileged !== isUnprivileged(src.config))
    return {
      refuse: `CT ${a.ctid} would be cloned from ${isUnprivileged(src.config) ? 'unprivileged' : 'privileged'} CT ${a.clone_from}, but unprivileged: ${a.unprivileged} is asked; a clone keeps its source's setting`,
    };
  // pct refuses to clone a running CT without a snapshot
  if (src.status === 'running' && !a.snapname)
    return { refuse: `CT ${a.clone_from} is running: cloning it needs snapname (or stop it first)` };
  const keys = { ...src.config.keys };
  delete keys.lock;
  if (a.hostname !== undefined) keys.hostname = a.hostname;
  return {
    changes: [{ description: `clone CT ${a.clone_from} to CT ${a.ctid}`, argv: cloneArgv(a) }, waitChange(a)],
    ct: { config: { keys, lxc: [...src.config.lxc] }, status: 'stopped', pending: [] },
  };
}

/** An existing CT is the base as it is; only unprivileged cannot be changed. */
function planExisting(current: CtState, a: PctArgs): Fragment {
  if (a.unprivileged !== undefined && a.unprivileged !== isUnprivileged(current.config))
    return {
      refuse: `CT ${a.ctid} exists and is ${isUnprivileged(current.config) ? 'unprivileged' : 'privileged'}, but unprivileged: ${a.unprivileged} is asked; this is fixed at creation (pct set refuses it): destroy and re-create the CT`,
    };
  return { changes: [], ct: current };
}

/** `pct set` of the settings and mounts that differ. */
function planEdit(base: CtState, a: PctArgs): Fragment<Step & { edit: ConfigEdit }> {
  let edit: ConfigEdit;
  try {
    edit = configEdit(base.config, a);
  } catch (e) {
    return { refuse: `CT ${a.ctid}: ${(e as Error).message}` };
  }
  const drives = [...Object.keys(edit.set), ...edit.delete].filter((k) => /^(mp\d+|unused\d+|rootfs)$/.test(k));
  const unprotect = base.config.keys.protection === '1' && drives.length > 0;
  if (unprotect && edit.set.protection !== '0')
    // LXC::Config::update_pct_config → check_protection: drive updates and removals are refused
    return {
      refuse: `CT ${a.ctid} is protected (protection: 1): PVE refuses to change its mount points ("can't ${edit.delete.includes(drives[0]) ? 'remove' : 'update'} CT ${a.ctid} drive '${drives[0]}' - protection mode enabled"); set protection: false in this task to lift it first; nothing was changed`,
    };
  const changes: Change[] = [];
  if (unprotect) {
    // the check reads the config before this pct set: protection is lifted by its own call first
    changes.push({
      description: `set CT ${a.ctid}: protection=0`,
      argv: ['pct', 'set', String(a.ctid), '--protection', '0'],
    });
    delete edit.set.protection;
  }
  if (Object.keys(edit.set).length > 0 || edit.delete.length > 0)
    changes.push({ description: `set CT ${a.ctid}: ${describeEdit(edit)}`, argv: editArgv(a.ctid, edit) });
  changes.push(...resizeChanges(a.ctid, edit));
  if (unprotect) edit.set.protection = '0';
  return {
    changes,
    ct: { ...base, config: applyEdit(base.config, edit) },
    edit,
  };
}

const startChange = (ctid: number): Change => ({
  description: `start CT ${ctid}`,
  argv: ['pct', 'start', String(ctid)],
});
/** API2::LXC::Status vm_shutdown: --timeout (default 60), --forceStop kills it after the timeout. */
const shutdownChange = (a: Pick<PctArgs, 'ctid' | 'shutdown_timeout' | 'force_stop'>): Change => ({
  description: `shut down CT ${a.ctid}`,
  argv: [
    'pct',
    'shutdown',
    String(a.ctid),
    '--timeout',
    String(a.shutdown_timeout),
    ...(a.force_stop ? ['--forceStop', '1'] : []),
  ],
});

/** The power state asked for, and the restart that pending changes of a running CT need. */
function planPower(base: CtState, pending: string[], a: PctArgs): Step & { restartRequired: boolean } {
  const running = base.status === 'running';
  const restart = [shutdownChange(a), startChange(a.ctid)];
  const to = (status: string, changes: Change[]) => ({ changes, ct: { ...base, status }, restartRequired: false });
  if (a.state === 'restarted') return to('running', running ? restart : [startChange(a.ctid)]);
  if (a.state === 'stopped') return to('stopped', running ? [shutdownChange(a)] : []);
  const changes: Change[] = [];
  let restartRequired = false;
  if (running && pending.length > 0) {
    if (a.restart === 'if_needed') changes.push(...restart);
    else restartRequired = true;
  }
  if (a.state === 'started' && !running) return to('running', [...changes, startChange(a.ctid)]);
  return { changes, ct: base, restartRequired };
}

/** pct start (or a hot-plug) fails on a missing bind source: a real run refuses before changing anything. */
function missingBindSource(f: PctFacts, a: PctArgs, base: CtState, edit: ConfigEdit, changes: Change[]) {
  const willStart = changes.some((c) => c.argv?.[1] === 'start');
  const hotplugged = new Set(
    base.status === 'running'
      ? Object.keys(edit.set)
          .filter((k) => /^mp\d+$/.test(k) && base.config.keys[k] === undefined)
          .map((k) => parsePropertyString(edit.set[k]).volume)
      : [],
  );
  const missing = (f.missingBindSources ?? []).filter((src) => willStart || hotplugged.has(src));
  if (missing.length === 0) return undefined;
  return `bind mount source ${missing.join(', ')} does not exist on the host: CT ${a.ctid} could not ${willStart ? 'start' : 'mount it'} (create it first, e.g. with file_perm state: directory); nothing was changed`;
}

/**
 * absent, or: the base (existing, created or cloned) → edit → power. In check
 * mode a missing bind source is no refusal: an earlier task that did not run may create it.
 */
export function plan(f: PctFacts, a: PctArgs, pc: Pick<PlanContext, 'check'>): Plan {
  if (f.error) return { changes: [], fail: f.error };
  if (f.stillLocked)
    return { changes: [], fail: `CT ${a.ctid} is still locked (${f.stillLocked}) after ${a.lock_timeout} s` };
  const current = f.ct;
  if (a.state === 'absent') return planAbsent(f, a);

  const base = current ? planExisting(current, a) : a.clone_from !== undefined ? planClone(f.source, a) : planCreate(a);
  if (refused(base)) return { changes: [], fail: base.refuse };
  const edit = planEdit(base.ct, a);
  if (refused(edit)) return { changes: [], fail: edit.refuse };
  const running = base.ct.status === 'running';
  const pendingAfter = running ? [...new Set([...pendingKeys(base.ct.pending), ...edit.edit.pending])].sort() : [];
  const power = planPower(base.ct, pendingAfter, a);
  const changes = [...base.changes, ...edit.changes, ...power.changes];
  const missing = pc.check ? undefined : missingBindSource(f, a, base.ct, edit.edit, changes);
  if (missing) return { changes: [], fail: missing };
  return assemble(a, current, { config: edit.ct.config, status: power.ct.status, pending: [] }, changes, {
    created: !current,
    restartRequired: power.restartRequired,
    pending: power.restartRequired ? pendingAfter : [],
  });
}

/** The plan of a present CT: result, message, diff, and the prediction for later tasks of a check run. */
function assemble(
  a: PctArgs,
  current: CtState | undefined,
  after: CtState,
  changes: Change[],
  o: { created: boolean; restartRequired: boolean; pending: string[] },
): Plan {
  const p: Plan = {
    changes,
    result: {
      ctid: a.ctid,
      status: after.status,
      created: o.created,
      unprivileged: isUnprivileged(after.config),
      container_root: containerRoot(after.config),
      mounts: mountsResult(after.config),
      restart_required: o.restartRequired,
      pending: o.pending,
    },
    msg: changes.length ? changes.map((c) => c.description).join('; ') : `CT ${a.ctid} is as wanted`,
    predict: [containerSlot.entry(a.ctid, { config: after.config, status: after.status })],
  };
  if (changes.length) {
    p.diff = {
      before: configText(current?.config) + (current ? `status: ${current.status}\n` : ''),
      after: configText(after.config) + `status: ${after.status}\n`,
      before_header: `CT ${a.ctid}`,
      after_header: `CT ${a.ctid}`,
    };
  }
  return p;
}

// ---------------------------------------------------------------- apply

/**
 * Applying is the generic run of the changes; then the CT must be as asked
 * (a `restarted` CT is now `started`; a restart asked for is not asked again),
 * and a running CT that PVE left with pending changes the plan did not foresee
 * is restarted when restart: if_needed.
 */
const verify: Verify<PctArgs> = {
  steady: (a) => ({ ...a, state: a.state === 'restarted' ? 'started' : a.state, restart: 'never' }),
  notConverged: (a, again) =>
    `CT ${a.ctid} did not converge: ${again.fail ?? (a.state === 'absent' ? 'it still exists' : `still needs ${again.changes.map((c) => c.description).join('; ')}`)}`,
  settle: (a, again) =>
    a.restart === 'if_needed' && again.result?.restart_required === true
      ? [shutdownChange(a), startChange(a.ctid)]
      : [],
};

export default defineModule<PctArgs, PctFacts>({
  name: 'pct',
  aliases: ['phx.proxmox.pct'],
  description:
    'An LXC container: create (unprivileged at create) or clone, converge settings and mount points, power state',
  args,
  facts,
  overlay,
  plan,
  verify,
});
