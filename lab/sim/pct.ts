// `pct` — LXC containers: config files under /etc/pve/nodes/<node>/lxc, the
// running state in /var/lib/phx-lab/ct/, root filesystems as real directories
// on their storage, and `pct exec` into them through isolate.ts.
import {
  existsSync,
  mkdirSync,
  writeFileSync,
  rmSync,
  readdirSync,
  chmodSync,
  readFileSync,
  symlinkSync,
} from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { CATALOGUE, CT_TEMPLATE_PACKAGES } from './apt-catalogue.js';
import { findStanza, parseStanzas, statusOf } from './dpkg-db.js';
import { seedPackages } from './apt.js';
import { bootUnits } from './units.js';
import {
  withLock,
  SimError,
  out,
  hostPath,
  nodeName,
  readText,
  writeFileAtomic,
  readJson,
  writeJson,
  STATE_DIR,
  faults,
  SIM_DIR,
  ROOT,
  sleepSync,
  CT_DEBS_DIR,
  CT_PACKAGE_DIR,
} from './env.js';
import { parsePveArgs, parsePveArgsExpecting, unknownOption, paramError, needArgs } from './pve-args.js';
import {
  parseCtConf,
  formatCtConf,
  parsePropString,
  formatMountPoint,
  formatNet,
  idMap,
  hostId,
  isMountPointKey,
  mountPointType,
  type CtConf,
} from './lxc-conf.js';
import { allocContainerVolume, volumePath, freeVolume, findStorage } from './storage.js';
import { runIsolated, systemBinds, type Bind } from './isolate.js';
import { vmidInUseMessage } from './vmlist.js';
import { checkCfsQuorum } from './membership.js';
import { publishActiveCts } from './active-cts.js';

export const ctConfPath = (id: string) => `/etc/pve/nodes/${nodeName()}/lxc/${id}.conf`;
export const vmConfPath = (id: string) => `/etc/pve/nodes/${nodeName()}/qemu-server/${id}.conf`;
const stateFile = (id: string) => `${STATE_DIR}/ct/${id}.json`;

interface CtState {
  running: boolean;
  startedAt: number;
}

const SETTABLE = [
  'arch',
  'cmode',
  'console',
  'cores',
  'cpulimit',
  'cpuunits',
  'debug',
  'description',
  'dev0',
  'features',
  'hookscript',
  'hostname',
  'lock',
  'memory',
  'nameserver',
  'onboot',
  'ostype',
  'protection',
  'rootfs',
  'searchdomain',
  'startup',
  'swap',
  'tags',
  'template',
  'timezone',
  'tty',
  'unprivileged',
  'entrypoint',
  'env',
];
const HOT_APPLY = new Set([
  'description',
  'onboot',
  'startup',
  'protection',
  'hostname',
  'hookscript',
  'cores',
  'tags',
]);
const HOT_PLUG = new Set(['cpulimit', 'cpuunits', 'memory', 'swap']);

/** $PVE::LXC::NEW_DISK_RE: `storage:size` asks for a new volume. */
function isAllocation(value: string): boolean {
  return /^[^:\s]+:\d+(\.\d+)?$/.test(parsePropString(value).volume);
}

function validKey(k: string): boolean {
  return SETTABLE.includes(k) || /^(mp|net|dev|unused)\d+$/.test(k);
}

function missingConf(id: string, rc = 2): never {
  throw new SimError(`Configuration file 'nodes/${nodeName()}/lxc/${id}.conf' does not exist`, rc);
}

export function readCt(id: string, rc = 2): CtConf {
  const text = readText(ctConfPath(id));
  if (text === null) missingConf(id, rc);
  return parseCtConf(text);
}

export function writeCt(id: string, conf: CtConf): void {
  writeFileAtomic(ctConfPath(id), formatCtConf(conf), 0o640);
}

export function ctRunning(id: string): boolean {
  return readJson<CtState>(stateFile(id), { running: false, startedAt: 0 }).running;
}

function setRunning(id: string, running: boolean): void {
  writeJson(stateFile(id), { running, startedAt: running ? Date.now() : 0 });
  publishActiveCts();
}

function checkLock(conf: CtConf): void {
  if (conf.keys.lock) throw new SimError(`CT is locked (${conf.keys.lock})`, 255);
}

function checkVmid(id: string): void {
  if (!/^\d+$/.test(id) || Number(id) < 100 || Number(id) > 999999999)
    paramError({ vmid: `invalid format - value does not look like a valid VM ID` });
}

/** PVE::Cluster::check_vmid_unused: the id must be free on every node of the cluster. `prefix`: what
 *  create_and_lock_config's caller puts before the message (pct create: "unable to create CT <id> - "). */
function assertUnused(id: string, prefix = ''): void {
  const inUse = vmidInUseMessage(id);
  if (inUse) throw new SimError(`${prefix}${inUse}`, 255);
}

function randomMac(): string {
  const h = () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, '0')
      .toUpperCase();
  return `BC:24:11:${h()}:${h()}:${h()}`;
}

/** Validates and normalises one option value as `pct set/create` would write it. */
function normaliseValue(id: string, k: string, v: string, taken: Set<number>): string {
  if (isMountPointKey(k) || k === 'rootfs') {
    const { volume, opts } = parsePropString(v);
    if (isMountPointKey(k) && !opts.mp)
      paramError({ [k]: `invalid format - format error\n${k}.mp: property is missing and it is not optional` });
    if (opts.mp && !opts.mp.startsWith('/'))
      paramError({ [k]: `invalid format - format error\n${k}.mp: value does not look like a valid absolute path` });
    let vol = volume;
    const alloc = /^([a-zA-Z][\w.-]*):(\d+(?:\.\d+)?)$/.exec(volume);
    if (alloc) {
      vol = allocContainerVolume(alloc[1], id, Number(alloc[2]), taken);
      opts.size = `${alloc[2]}G`;
    } else if (mountPointType(volume) === 'volume' && !findStorage(volume.split(':')[0]))
      throw new SimError(`storage '${volume.split(':')[0]}' does not exist`, 255);
    return k === 'rootfs'
      ? [
          vol,
          ...Object.keys(opts)
            .sort()
            .map((o) => `${o}=${opts[o]}`),
        ].join(',')
      : formatMountPoint(vol, opts);
  }
  if (/^net\d+$/.test(k)) {
    const p = parsePropString(v, '__none__').opts;
    if (!p.name) paramError({ [k]: 'invalid format - format error\nname: property is missing and it is not optional' });
    p.hwaddr ??= randomMac();
    p.type ??= 'veth';
    return formatNet(p);
  }
  // PVE::LXC::verify_nameserver_list / verify_searchdomain_list: split_list, joined by one space
  if (k === 'nameserver' || k === 'searchdomain') return splitList(v).join(' ');
  if (k === 'tags') return uniqueTags(v);
  if (
    ['cores', 'memory', 'swap', 'cpuunits', 'onboot', 'protection', 'tty', 'template'].includes(k) &&
    !/^\d+$/.test(v)
  )
    paramError({ [k]: `type check ('integer') failed - got '${v}'` });
  return v;
}

/** PVE::ParseUtils::split_list: `,` and `;` are spaces, then split on whitespace. */
function splitList(v: string): string[] {
  if (v.includes('\0')) return v.split('\0');
  return v.replace(/[,;]/g, ' ').trim().split(/\s+/).filter(Boolean);
}

/** PVE::GuestHelpers::get_unique_tags with the default datacenter tag-style: lower-cased, sorted, unique, `;`-joined. */
function uniqueTags(v: string): string {
  return [...new Set(splitList(v).map((t) => t.toLowerCase()))].sort().join(';');
}

/**
 * Why a veth cannot be plugged into `bridge`, as pve-container's src/lxcnetaddbr (at start) and
 * pve-common PVE::Network::read_bridge_mtu (hotplug) find it: the bridge's /sys/class/net/<bridge>/mtu
 * must be readable. The lab's /sys/class/net is the host's own (seed.ts SEED_BRIDGES).
 */
function bridgeProblem(bridge: string | undefined): string | null {
  if (!bridge) return 'missing bridge configuration';
  const mtu = /^[\w.-]+$/.test(bridge) ? readText(`/sys/class/net/${bridge}/mtu`) : null;
  return mtu && mtu.trim() ? null : `bridge '${bridge}' does not exist`;
}

/** AbstractConfig::check_protection */
function checkProtection(conf: CtConf, what: string): void {
  if (conf.keys.protection === '1') throw new SimError(`${what} - protection mode enabled`, 255);
}

/** LXC::Config::update_pct_config: drive removals and updates are refused on a protected CT. */
function checkDriveProtection(id: string, conf: CtConf, deletes: string[], sets: string[]): void {
  for (const k of deletes) if (/^(mp|unused)\d+$/.test(k)) checkProtection(conf, `can't remove CT ${id} drive '${k}'`);
  for (const k of [...sets].sort())
    if (isMountPointKey(k) || k === 'rootfs') checkProtection(conf, `can't update CT ${id} drive '${k}'`);
}

/** AbstractConfig::add_unused_volume: the lowest free unusedN, no duplicates. */
function addUnusedVolume(conf: CtConf, volume: string): void {
  if (Object.entries(conf.keys).some(([k, v]) => /^unused\d+$/.test(k) && v === volume)) return;
  for (let i = 0; i < 256; i++)
    if (conf.keys[`unused${i}`] === undefined) {
      conf.keys[`unused${i}`] = volume;
      return;
    }
  throw new SimError('Too many unused volumes - please delete them first.', 255);
}

function parseOptions(p: ReturnType<typeof parsePveArgs>): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [k, v] of p.options) props[k] = v;
  return props;
}

export function pct(args: string[]): number | Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'create':
      return create(rest);
    case 'clone':
      return clone(rest);
    case 'set':
      return set(rest);
    case 'config':
      return config(rest);
    case 'pending':
      return pending(rest);
    case 'status':
      return status(rest);
    case 'list':
      return list();
    case 'start':
      return start(rest);
    case 'stop':
    case 'shutdown':
      return stop(rest, cmd);
    case 'reboot':
      return reboot(rest);
    case 'resize':
      return resize(rest);
    case 'destroy':
      return destroy(rest);
    case 'exec':
      return exec(rest);
    case 'push':
      return push(rest);
    case '__finish-create':
      return finishCreate(rest);
    default:
      throw new SimError(`unknown command 'pct ${cmd ?? ''}'\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]`, 255);
  }
}

// ---- create / clone -------------------------------------------------------

const SKELETON_DIRS = [
  'etc',
  'usr',
  'dev',
  'proc',
  'sys',
  'tmp',
  'root',
  'run',
  'var/log',
  'home',
  'mnt',
  'opt',
  'srv',
  'etc/ssl/private',
  'etc/systemd/system/multi-user.target.wants',
];

/** When debian-12-standard_12.7-1 was built (its files' mtimes). */
const TEMPLATE_BUILT = new Date('2024-10-07T00:00:00Z');

/** "Extracts" the template: a small Debian-like tree (users root, www-data, nobody; the standard template's
 *  packages in dpkg's status, ssh and cron enabled; apt's lists cleaned, as Proxmox's templates ship). */
function populateRootfs(dir: string, hostname: string, map: ReturnType<typeof idMap>): void {
  for (const d of SKELETON_DIRS) mkdirSync(`${dir}/${d}`, { recursive: true });
  for (const l of ['bin', 'lib', 'lib64', 'sbin'])
    if (!existsSync(`${dir}/${l}`)) spawnSync('ln', ['-s', `usr/${l}`, `${dir}/${l}`]);
  writeFileSync(
    `${dir}/etc/passwd`,
    'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(`${dir}/etc/group`, 'root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nssl-cert:x:110:\nnogroup:x:65534:\n');
  writeFileSync(`${dir}/etc/hostname`, `${hostname}\n`);
  writeFileSync(`${dir}/etc/hosts`, `127.0.0.1 localhost\n127.0.1.1 ${hostname}\n`);
  writeFileSync(
    `${dir}/etc/os-release`,
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  );
  // the lists directory keeps the template's build date, as tar keeps mtimes on extraction: an
  // age check (Ansible's cache_valid_time reads its mtime) sees old, empty lists
  seedPackages(dir, CT_TEMPLATE_PACKAGES, false, TEMPLATE_BUILT);
  for (const u of ['ssh', 'cron'])
    symlinkSync(`/lib/systemd/system/${u}.service`, `${dir}/etc/systemd/system/multi-user.target.wants/${u}.service`);
  chmodSync(`${dir}/tmp`, 0o1777);
  chmodSync(`${dir}/root`, 0o700);
  spawnSync('chown', ['-hR', `${hostId(map, 'u', 0)}:${hostId(map, 'g', 0)}`, dir]);
}

export function rootfsDir(conf: CtConf): string | null {
  if (!conf.keys.rootfs) return null;
  const p = volumePath(parsePropString(conf.keys.rootfs).volume);
  return p ? hostPath(p) : null;
}

function create(args: string[]): number {
  const p = parsePveArgsExpecting(args, 2);
  const [id, ostemplate] = p.positional;
  checkVmid(id);
  const props = parseOptions(p);
  const storage = props.storage ?? 'local';
  delete props.storage;
  for (const k of [
    'password',
    'ssh-public-keys',
    'start',
    'unique',
    'pool',
    'restore',
    'force',
    'ignore-unpack-errors',
  ])
    delete props[k];
  for (const k of Object.keys(props)) if (!validKey(k)) unknownOption(k);
  const doStart = p.options.some(([k, v]) => k === 'start' && v === '1');
  // pve-container API2/LXC.pm create_vm: check_cfs_quorum, then check_vmid_unused, before the template or storage
  checkCfsQuorum();
  assertUnused(id);
  const tmpl = volumePath(ostemplate);
  if (!tmpl || !existsSync(hostPath(tmpl))) throw new SimError(`volume '${ostemplate}' does not exist`, 255);
  // pve-container 5.x (PVE 8): the schema default 0, privileged; 6.0.6+ (PVE 9) defaults to 1 in
  // API2::LXC create_vm. The lab is the stricter PVE 8: a caller must say what it wants.
  const unprivileged = /^(1|yes|on|true)$/i.test(props.unprivileged ?? '0') ? '1' : '0';

  const conf: CtConf = withLock(() => {
    // create_and_lock_config (pve-guest-common AbstractConfig.pm) checks again under the lock
    assertUnused(id, `unable to create CT ${id} - `);
    const c: CtConf = {
      description: [],
      keys: { lock: 'create' },
      lxc: [],
      pending: {},
      pendingDelete: [],
      snapshots: '',
    };
    writeCt(id, c);
    return c;
  });
  try {
    const taken = new Set<number>();
    props.rootfs ??= `${storage}:4`;
    const keys: Record<string, string> = { arch: 'amd64', ostype: 'debian', hostname: `CT${id}` };
    if (unprivileged === '1') keys.unprivileged = '1';
    delete props.unprivileged;
    for (const k of [
      'rootfs',
      ...Object.keys(props)
        .filter((k) => k !== 'rootfs')
        .sort(),
    ]) {
      if (k === 'description') conf.description = props[k].split('\n');
      else keys[k] = normaliseValue(id, k, props[k], taken);
    }
    conf.keys = { ...keys, lock: 'create' };
    const dir = rootfsDir(conf)!;
    out(
      `extracting archive '${tmpl}'\nTotal bytes read: 530677760 (507MiB, 255MiB/s)\nDetected container architecture: amd64\nCreating SSH host key 'ssh_host_ed25519_key' - done: SHA256:${'x'.repeat(8)}\n`,
    );
    populateRootfs(dir, keys.hostname, idMap(conf));
    for (const [k, v] of Object.entries(conf.keys)) if (isMountPointKey(k)) chownVolumeRoot(v, conf);
  } catch (e) {
    withLock(() => rmSync(hostPath(ctConfPath(id)), { force: true }));
    throw e;
  }
  withLock(() => writeCt(id, conf));
  finishOrDefer(id);
  if (doStart) return start([id]);
  return 0;
}

/** The `lock: create` stays for createLockSeconds (fault), cleared by a background step. */
function finishOrDefer(id: string): void {
  const delay = faults().createLockSeconds ?? 0;
  if (delay <= 0) {
    withLock(() => {
      const c = readCt(id);
      delete c.keys.lock;
      writeCt(id, c);
    });
    return;
  }
  const child = spawn(
    process.execPath,
    [`${SIM_DIR}/main.js`, 'pct', '__finish-create', id, String(Date.now() + delay * 1000)],
    {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, PHX_LAB_ROOT: ROOT },
    },
  );
  child.unref();
}

function finishCreate(args: string[]): number {
  const [id, at] = args;
  const wait = Number(at) - Date.now();
  if (wait > 0) sleepSync(wait);
  return withLock(() => {
    const text = readText(ctConfPath(id));
    if (text === null) return 0;
    const c = parseCtConf(text);
    if (c.keys.lock === 'create') {
      delete c.keys.lock;
      writeCt(id, c);
    }
    return 0;
  });
}

/** A newly allocated volume's top dir belongs to the container's root. */
function chownVolumeRoot(mpValue: string, conf: CtConf): void {
  const { volume } = parsePropString(mpValue);
  if (mountPointType(volume) !== 'volume') return;
  const p = volumePath(volume);
  const map = idMap(conf);
  if (p) spawnSync('chown', [`${hostId(map, 'u', 0)}:${hostId(map, 'g', 0)}`, hostPath(p)]);
}

function clone(args: string[]): number {
  const p = parsePveArgs(args, ['full']);
  needArgs(p, 2);
  const [src, id] = p.positional;
  checkVmid(id);
  const opts = parseOptions(p);
  for (const k of Object.keys(opts))
    if (!['hostname', 'full', 'storage', 'snapname', 'description', 'pool', 'target', 'bwlimit'].includes(k))
      unknownOption(k);
  const source = readCt(src);
  checkLock(source);
  for (const [k, v] of Object.entries(source.keys))
    if (isMountPointKey(k)) {
      const t = mountPointType(parsePropString(v).volume);
      if (t !== 'volume') throw new SimError(`unable to clone mountpoint '${k}' (type ${t})`, 255);
    }
  if (ctRunning(src) && !opts.snapname)
    throw new SimError(`unable to clone a running container without a snapshot`, 255);
  withLock(() => {
    assertUnused(id);
    writeCt(id, { description: [], keys: { lock: 'create' }, lxc: [], pending: {}, pendingDelete: [], snapshots: '' });
  });
  const conf: CtConf = {
    description: [...source.description],
    keys: {},
    lxc: source.lxc.map(([k, v]) => [k, v]),
    pending: {},
    pendingDelete: [],
    snapshots: '',
  };
  try {
    const taken = new Set<number>();
    for (const [k, v] of Object.entries(source.keys)) {
      if (k === 'lock') continue;
      if (k === 'rootfs' || isMountPointKey(k)) {
        const { volume, opts: o } = parsePropString(v);
        const store = opts.storage ?? volume.split(':')[0];
        const newVol = allocContainerVolume(store, id, 0, taken);
        const from = volumePath(volume);
        const to = volumePath(newVol);
        if (from && to) spawnSync('cp', ['-a', `${hostPath(from)}/.`, hostPath(to)]);
        conf.keys[k] =
          k === 'rootfs'
            ? [
                newVol,
                ...Object.keys(o)
                  .sort()
                  .map((x) => `${x}=${o[x]}`),
              ].join(',')
            : formatMountPoint(newVol, o);
      } else if (/^net\d+$/.test(k)) {
        const n = parsePropString(v, '__none__').opts;
        n.hwaddr = randomMac();
        conf.keys[k] = formatNet(n);
      } else conf.keys[k] = v;
    }
    if (opts.hostname) conf.keys.hostname = opts.hostname;
    if (opts.description) conf.description = opts.description.split('\n');
    out(`create full clone of mountpoint rootfs (${source.keys.rootfs?.split(',')[0]})\n`);
    conf.keys.lock = 'create';
  } catch (e) {
    withLock(() => rmSync(hostPath(ctConfPath(id)), { force: true }));
    throw e;
  }
  withLock(() => writeCt(id, conf));
  finishOrDefer(id);
  return 0;
}

// ---- set / config / pending -------------------------------------------------

function set(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  return withLock(() => {
    const conf = readCt(id);
    const opts = parseOptions(p);
    const deletes = (opts.delete ?? '').split(/[,;\s]+/).filter(Boolean);
    const reverts = (opts.revert ?? '').split(/[,;\s]+/).filter(Boolean);
    delete opts.delete;
    delete opts.revert;
    delete opts.digest;
    for (const k of Object.keys(opts)) if (!validKey(k)) unknownOption(k);
    if ('unprivileged' in opts) throw new SimError(`unable to modify read-only option: 'unprivileged'`, 255);
    if (deletes.includes('unprivileged')) throw new SimError(`unable to delete read-only option: 'unprivileged'`, 255);
    if (!('lock' in opts) && !deletes.includes('lock')) checkLock(conf);
    checkDriveProtection(id, conf, deletes, Object.keys(opts));
    const running = ctRunning(id);
    const taken = new Set<number>();
    for (const k of reverts) {
      delete conf.pending[k];
      conf.pendingDelete = conf.pendingDelete.filter((d) => d !== k);
    }
    for (const k of deletes) {
      if (k === 'lock') delete conf.keys.lock;
      else if (!running || HOT_APPLY.has(k) || HOT_PLUG.has(k)) {
        if (k === 'description') conf.description = [];
        // vmconfig_apply_pending: a removed volume mount point stays as unusedN; a removed unusedN is freed
        if (isMountPointKey(k) && conf.keys[k] !== undefined) {
          const { volume } = parsePropString(conf.keys[k]);
          if (mountPointType(volume) === 'volume') addUnusedVolume(conf, volume);
        }
        if (/^unused\d+$/.test(k) && conf.keys[k] !== undefined) freeVolume(conf.keys[k]);
        delete conf.keys[k];
        delete conf.pending[k];
      } else if (conf.keys[k] !== undefined) {
        if (!conf.pendingDelete.includes(k)) conf.pendingDelete.push(k);
        delete conf.pending[k];
      } else delete conf.pending[k];
    }
    const hotplugErrors: Record<string, string> = {};
    for (const [k, raw] of Object.entries(opts)) {
      if (k === 'description') {
        conf.description = raw.split('\n');
        continue;
      }
      let v = normaliseValue(id, k, raw, taken);
      if (isMountPointKey(k)) chownVolumeRoot(v, conf);
      const isNewMp = isMountPointKey(k) && conf.keys[k] === undefined;
      // LXC::Config::apply_pending_mountpoint: `storage:size` ($NEW_DISK_RE) allocates a new, empty
      // volume even for an existing mpN (and hot-plugs it); the old volume is kept as unusedN
      const allocated = isMountPointKey(k) && isAllocation(raw);
      if (
        !running ||
        HOT_APPLY.has(k) ||
        HOT_PLUG.has(k) ||
        /^net\d+$/.test(k) ||
        isNewMp ||
        allocated ||
        k === 'lock'
      ) {
        const oldVolume = isMountPointKey(k) && conf.keys[k] ? parsePropString(conf.keys[k]).volume : undefined;
        if (oldVolume && oldVolume !== parsePropString(v).volume && mountPointType(oldVolume) === 'volume')
          addUnusedVolume(conf, oldVolume);
        // apply_pending_mountpoint rescans a kept volume's size (size= is PVE's, not the caller's)
        if (oldVolume && oldVolume === parsePropString(v).volume && mountPointType(oldVolume) === 'volume') {
          const size = parsePropString(conf.keys[k]).opts.size;
          const next = parsePropString(v);
          if (size !== undefined) v = formatMountPoint(next.volume, { ...next.opts, size });
        }
        if (running && /^net\d+$/.test(k)) {
          // hotplug_net → PVE::Network::veth_create → read_bridge_mtu
          const problem = bridgeProblem(parsePropString(v, '__none__').opts.bridge);
          if (problem) hotplugErrors[k] = `unable to hotplug ${k}: ${problem}`;
        }
        if (running && isNewMp) {
          const { volume } = parsePropString(v);
          if (mountPointType(volume) === 'bind' && !existsSync(hostPath(volume)))
            hotplugErrors[k] = `unable to hotplug ${k}: directory '${volume}' does not exist`;
        }
        conf.keys[k] = v;
        delete conf.pending[k];
      } else if (conf.keys[k] !== v) conf.pending[k] = v;
      conf.pendingDelete = conf.pendingDelete.filter((d) => d !== k);
    }
    if (Object.keys(hotplugErrors).length) paramError(hotplugErrors);
    writeCt(id, conf);
    return 0;
  });
}

function escapeDescription(lines: string[]): string {
  // eslint-disable-next-line no-control-regex -- PVE's encode_text %-escapes exactly the control characters
  const escaped = /[%:\x00-\x1f]/g;
  return lines.join('\n').replace(escaped, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

function config(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  const current = p.options.some(([k, v]) => k === 'current' && v === '1');
  for (const [k] of p.options) if (k !== 'current' && k !== 'snapshot') unknownOption(k);
  const conf = readCt(id);
  const keys = { ...conf.keys };
  if (!current) {
    Object.assign(keys, conf.pending);
    for (const d of conf.pendingDelete) delete keys[d];
  }
  if (conf.description.length) keys.description = escapeDescription(conf.description);
  let text = '';
  for (const k of Object.keys(keys).sort()) text += `${k}: ${keys[k]}\n`;
  for (const [k, v] of conf.lxc) text += `${k}: ${v}\n`;
  out(text);
  return 0;
}

function pending(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const conf = readCt(p.positional[0]);
  const keys = new Set([...Object.keys(conf.keys), ...Object.keys(conf.pending), ...conf.pendingDelete]);
  let text = '';
  for (const k of [...keys].sort()) {
    const v = conf.keys[k];
    if (conf.pendingDelete.includes(k)) text += `del ${k}: ${v ?? ''}\n`;
    else if (conf.pending[k] !== undefined) {
      if (v !== undefined) text += `cur ${k}: ${v}\n`;
      text += `new ${k}: ${conf.pending[k]}\n`;
    } else text += `cur ${k}: ${v}\n`;
  }
  out(text);
  return 0;
}

// ---- status / list ----------------------------------------------------------

function status(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  const conf = readCt(id);
  const running = ctRunning(id);
  const verbose = p.options.some(([k, v]) => k === 'verbose' && v === '1');
  if (!verbose) {
    out(`status: ${running ? 'running' : 'stopped'}\n`);
    return 0;
  }
  const st = readJson<CtState>(stateFile(id), { running: false, startedAt: 0 });
  const memory = Number(conf.keys.memory ?? 512) * 1024 * 1024;
  const info: Record<string, string> = {
    cpus: conf.keys.cores ?? '1',
    disk: '0',
    diskread: '0',
    diskwrite: '0',
    maxdisk: String(4 * 1024 ** 3),
    maxmem: String(memory),
    maxswap: String(Number(conf.keys.swap ?? 512) * 1024 * 1024),
    mem: running ? String(Math.floor(memory / 20)) : '0',
    name: conf.keys.hostname ?? `CT${id}`,
    netin: '0',
    netout: '0',
    status: running ? 'running' : 'stopped',
    swap: '0',
    type: 'lxc',
    uptime: running ? String(Math.floor((Date.now() - st.startedAt) / 1000)) : '0',
    vmid: id,
  };
  if (running) info.pid = String(100000 + Number(id));
  if (conf.keys.lock) info.lock = conf.keys.lock;
  out(
    Object.keys(info)
      .sort()
      .map((k) => `${k}: ${info[k]}\n`)
      .join(''),
  );
  return 0;
}

export function listCtIds(): string[] {
  try {
    return readdirSync(hostPath(`/etc/pve/nodes/${nodeName()}/lxc`))
      .filter((f) => /^\d+\.conf$/.test(f))
      .map((f) => f.slice(0, -5))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

function list(): number {
  const ids = listCtIds();
  if (ids.length === 0) return 0;
  const row = (a: string, b: string, c: string, d: string) =>
    `${a.padEnd(10)} ${b.padEnd(10)} ${c.padEnd(12)} ${d.padEnd(20)}\n`;
  let text = row('VMID', 'Status', 'Lock', 'Name');
  for (const id of ids) {
    const c = parseCtConf(readText(ctConfPath(id)) ?? '');
    text += row(id, ctRunning(id) ? 'running' : 'stopped', c.keys.lock ?? '', c.keys.hostname ?? '');
  }
  out(text);
  return 0;
}

// ---- power ------------------------------------------------------------------

function ctUnitsDir(conf: CtConf): string | null {
  const dir = rootfsDir(conf);
  return dir ? `${dir}/run/phx-lab/units` : null;
}

function start(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  return withLock(() => {
    const conf = readCt(id, 255);
    checkLock(conf);
    if (ctRunning(id)) throw new SimError(`CT ${id} already running`, 255);
    // pending changes take effect at start (vmconfig_apply_pending): a replaced or removed
    // volume mount point stays as unusedN
    for (const k of [...Object.keys(conf.pending), ...conf.pendingDelete])
      if (isMountPointKey(k) && conf.keys[k] !== undefined) {
        const old = parsePropString(conf.keys[k]).volume;
        const next = conf.pending[k] !== undefined ? parsePropString(conf.pending[k]).volume : undefined;
        if (old !== next && mountPointType(old) === 'volume') addUnusedVolume(conf, old);
      }
    Object.assign(conf.keys, conf.pending);
    for (const d of conf.pendingDelete) delete conf.keys[d];
    conf.pending = {};
    conf.pendingDelete = [];
    for (const [k, v] of Object.entries(conf.keys))
      if (isMountPointKey(k)) {
        const { volume } = parsePropString(v);
        const path = mountPointType(volume) === 'bind' ? volume : volumePath(volume);
        if (!path || !existsSync(hostPath(path))) {
          out(`directory '${path ?? volume}' does not exist\n`);
          throw new SimError(`startup for container '${id}' failed`, 255);
        }
      }
    for (const [k, v] of Object.entries(conf.keys))
      if (/^net\d+$/.test(k)) {
        const problem = bridgeProblem(parsePropString(v, '__none__').opts.bridge);
        if (problem) {
          out(`${problem}\n`);
          throw new SimError(`startup for container '${id}' failed`, 255);
        }
      }
    writeCt(id, conf);
    const map = idMap(conf);
    const lxcDir = hostPath(`/var/lib/lxc/${id}`);
    mkdirSync(lxcDir, { recursive: true });
    const idmapLines = (map ?? [])
      .map((m) => `lxc.idmap = ${m.kind} ${m.ctStart} ${m.hostStart} ${m.count}\n`)
      .join('');
    writeFileSync(
      `${lxcDir}/config`,
      `lxc.arch = amd64\nlxc.uts.name = ${conf.keys.hostname ?? `CT${id}`}\n${idmapLines}lxc.rootfs.path = ${rootfsDir(conf)}\n`,
    );
    // services inside the container come up with it
    const units = ctUnitsDir(conf);
    if (units) {
      rmSync(units, { recursive: true, force: true });
      mkdirSync(units, { recursive: true });
      for (const u of bootUnits(rootfsDir(conf)!)) writeFileSync(`${units}/${u}`, `${Date.now()}\n`);
      spawnSync('chown', ['-R', `${hostId(map, 'u', 0)}:${hostId(map, 'g', 0)}`, units.replace(/\/units$/, '')]);
    }
    setRunning(id, true);
    return 0;
  });
}

function stop(args: string[], how: string): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  const o = parseOptions(p);
  for (const k of Object.keys(o))
    if (!(how === 'shutdown' ? ['timeout', 'forceStop'] : ['skiplock', 'overrule-shutdown']).includes(k))
      unknownOption(k);
  if (o.timeout !== undefined && !/^\d+$/.test(o.timeout))
    paramError({ timeout: `type check ('integer') failed - got '${o.timeout}'` });
  const timeout = Number(o.timeout ?? 60);
  const forceStop = /^(1|yes|on|true)$/i.test(o.forceStop ?? '0');
  const runningChecked = () => {
    if (!existsSync(hostPath(ctConfPath(id))) || !ctRunning(id)) throw new SimError(`CT ${id} not running`, 255);
    checkLock(readCt(id));
  };
  if (how === 'shutdown' && faults().shutdownHang) {
    // the CT ignores the clean shutdown: PVE::LXC::vm_stop waits `timeout` s for lxc-stop, then
    // (without forceStop) dies "container did not stop"; with forceStop lxc-stop kills it
    withLock(runningChecked);
    sleepSync(timeout * 1000);
    if (!forceStop) {
      process.stderr.write(`command 'lxc-stop -n ${id} --nokill --timeout ${timeout}' failed: exit code 1\n`);
      throw new SimError('container did not stop', 255);
    }
  }
  return withLock(() => {
    runningChecked();
    setRunning(id, false);
    return 0;
  });
}

/** `pct resize <id> <disk> [+]<size>` (API2::LXC resize_vm): grows only; the config's size= follows. */
function resize(args: string[]): number {
  const p = parsePveArgsExpecting(args, 3);
  const [id, disk, sizeArg] = p.positional;
  for (const [k] of p.options) if (k !== 'digest') unknownOption(k);
  const m = /^(\+)?(\d+(?:\.\d+)?)([KMGT])?$/.exec(sizeArg);
  if (!m) paramError({ size: `value does not match the regex pattern` });
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[3] ?? 'K'] ?? 1;
  const request = Math.floor(Number(m[2]) * (m[3] ? unit : 1));
  return withLock(() => {
    const conf = readCt(id);
    checkLock(conf);
    if (disk !== 'rootfs' && !isMountPointKey(disk))
      paramError({ disk: `value '${disk}' does not have a value in the enumeration` });
    const value = conf.keys[disk];
    if (value === undefined) throw new SimError(`unable to parse config of mountpoint ${disk}`, 255);
    const { volume, opts } = parsePropString(value);
    if (mountPointType(volume) !== 'volume')
      throw new SimError(`Resize of non-volume mount point '${disk}' is not supported`, 255);
    const current = sizeBytes(opts.size ?? '0');
    const wanted = m[1] ? current + request : request;
    if (wanted < current) throw new SimError('unable to shrink disk size', 255);
    if (wanted === current) throw new SimError('disk is already at specified size', 255);
    opts.size = formatSize(wanted);
    conf.keys[disk] =
      disk === 'rootfs'
        ? [
            volume,
            ...Object.keys(opts)
              .sort()
              .map((o) => `${o}=${opts[o]}`),
          ].join(',')
        : formatMountPoint(volume, opts);
    writeCt(id, conf);
    return 0;
  });
}

function sizeBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(size);
  if (!m) return 0;
  return Math.floor(Number(m[1]) * ({ K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] ?? ''] ?? 1));
}

/** PVE::JSONSchema::format_size: the largest unit that divides the size. */
function formatSize(bytes: number): string {
  for (const [u, f] of [
    ['T', 1024 ** 4],
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const)
    if (bytes % f === 0) return `${bytes / f}${u}`;
  return String(bytes);
}

function reboot(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  readCt(id, 255);
  if (!ctRunning(id)) throw new SimError(`CT ${id} not running`, 255);
  stop([id], 'stop');
  return start([id]);
}

const HA_RESOURCES = '/etc/pve/ha/resources.cfg';
const REPLICATION_CFG = '/etc/pve/replication.cfg';

/** Section-config blocks (`type: id` then indented lines) of an /etc/pve file. */
function sections(text: string): Array<{ type: string; id: string; lines: string[] }> {
  const out: Array<{ type: string; id: string; lines: string[] }> = [];
  for (const line of text.split('\n')) {
    const h = /^(\S+):\s*(\S+)\s*$/.exec(line);
    if (h) out.push({ type: h[1], id: h[2], lines: [line] });
    else if (out.length && line.trim() !== '') out[out.length - 1].lines.push(line);
  }
  return out;
}

const isHaResource = (s: { type: string; id: string }, id: string) =>
  (s.type === 'ct' && s.id === id) || (s.type === 'service' && s.id === `ct:${id}`);
const isReplicationJob = (s: { id: string }, id: string) => new RegExp(`^${id}-\\d+$`).test(s.id);

/** Drops the matching sections from an /etc/pve section-config file (what `--purge` does). */
function purgeSections(path: string, drop: (s: { type: string; id: string }) => boolean): void {
  const text = readText(path);
  if (text === null) return;
  const kept = sections(text).filter((s) => !drop(s));
  writeFileAtomic(path, kept.map((s) => s.lines.join('\n') + '\n').join('\n'), 0o640);
}

/** API2::LXC destroy_vm: protection, lock, HA and replication refuse (without --purge) before anything. */
function destroy(args: string[]): number {
  const p = parsePveArgs(args, ['purge', 'force', 'destroy-unreferenced-disks']);
  needArgs(p, 1);
  const [id] = p.positional;
  const o = parseOptions(p);
  const purge = /^(1|yes|on|true)$/i.test(o.purge ?? '0');
  const force = /^(1|yes|on|true)$/i.test(o.force ?? '0');
  return withLock(() => {
    const conf = readCt(id, 255);
    checkProtection(conf, `can't remove CT ${id}`);
    checkLock(conf);
    const ha = sections(readText(HA_RESOURCES) ?? '').some((s) => isHaResource(s, id));
    if (!purge) {
      if (ha) throw new SimError(`unable to remove CT ${id} - used in HA resources and purge parameter not set.`, 255);
      const job = sections(readText(REPLICATION_CFG) ?? '').find((s) => isReplicationJob(s, id));
      if (job)
        throw new SimError(`There is a replication job '${job.id}' for guest '${id}' - Please remove that first.`, 255);
    }
    if (ctRunning(id)) {
      if (!force) throw new SimError(`unable to destroy CT ${id} - container is running`, 255);
      process.stderr.write(`forced to stop CT ${id} before destroying!\n`);
      setRunning(id, false);
    }
    for (const [k, v] of Object.entries(conf.keys))
      if (k === 'rootfs' || isMountPointKey(k) || /^unused\d+$/.test(k)) {
        const { volume } = parsePropString(v);
        if (mountPointType(volume) === 'volume') freeVolume(volume);
      }
    rmSync(hostPath(ctConfPath(id)), { force: true });
    rmSync(hostPath(stateFile(id)), { force: true });
    rmSync(hostPath(`/var/lib/lxc/${id}`), { recursive: true, force: true });
    if (purge) {
      purgeSections(HA_RESOURCES, (s) => isHaResource(s, id));
      purgeSections(REPLICATION_CFG, (s) => isReplicationJob(s, id));
    }
    return 0;
  });
}

// ---- exec / push ----------------------------------------------------------

/** Overlay layers for the container's /usr: programs of packages it has not installed hidden, those of
 *  packages it has run in a network namespace of their own (hostfs.ts writeUsrHide). */
function usrHidden(conf: CtConf): string[] {
  const dir = process.env.PHX_LAB_USR_HIDE;
  if (!dir) return [];
  const status = parseStanzas(readTextAbs(`${rootfsDir(conf)}/var/lib/dpkg/status`));
  return CATALOGUE.filter((p) => p.usrFiles?.length)
    .map((p) => join(dir, statusOf(findStanza(status, p.name)) === 'installed' ? 'wrap' : 'hide', p.name))
    .filter((d) => existsSync(d));
}

function readTextAbs(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** Binds for a container: the system ones (its /usr without the programs of packages it lacks), its mount
 *  points, the container-side tool shims, and what they run: this package and the package payloads. */
function ctBinds(conf: CtConf): Bind[] {
  const binds = systemBinds();
  const hide = usrHidden(conf);
  if (hide.length) binds[0] = { ...binds[0], hide };
  const ctBin = process.env.PHX_LAB_CT_BIN;
  if (ctBin) binds.push({ src: ctBin, dst: '/usr/local/sbin' });
  binds.push({ src: resolve(SIM_DIR, '../../..'), dst: CT_PACKAGE_DIR, ro: true });
  const debs = process.env.PHX_LAB_DEBS;
  if (debs && existsSync(debs)) binds.push({ src: debs, dst: CT_DEBS_DIR, ro: true });
  // node itself, when installed outside /usr (nvm, a tarball under /opt …)
  const nodePrefix = resolve(dirname(process.execPath), '..');
  if (!nodePrefix.startsWith('/usr') && nodePrefix !== '/') binds.push({ src: nodePrefix, dst: nodePrefix, ro: true });
  const mps = Object.entries(conf.keys)
    .filter(([k]) => isMountPointKey(k))
    .map(([, v]) => parsePropString(v))
    .sort((a, b) => (a.opts.mp ?? '').localeCompare(b.opts.mp ?? ''));
  for (const { volume, opts } of mps) {
    const src = mountPointType(volume) === 'volume' ? volumePath(volume) : volume;
    if (src && opts.mp) binds.push({ src: hostPath(src), dst: opts.mp, ro: opts.ro === '1' });
  }
  return binds;
}

async function exec(args: string[]): Promise<number> {
  const p = parsePveArgs(args);
  const id = p.positional[0];
  if (!id) throw new SimError('400 not enough arguments', 255);
  const argv = [...p.positional.slice(1), ...(p.trailing ?? [])];
  readCt(id);
  if (argv.length === 0) throw new SimError('missing command', 255);
  // pct.pm's exec: `exec('lxc-attach', '-n', $vmid, '--', @extra-args)`, no state check of its own
  return lxcAttach(id, argv);
}

/**
 * lxc-attach -n <id> -- <argv…> (lab/sim/lxc-attach.ts and pct exec): the command in the running CT, with
 * its stdin/stdout/stderr; the exit status is the command's (lxc src/lxc/tools/lxc_attach.c main: WEXITSTATUS,
 * 128 + the signal). A CT that does not run (stopped, or no such CT: lxc_container_new succeeds for any name)
 * has no init pid: get_attach_context fails, lxc_attach logs (log.c's log_append_stderr format), EXIT_FAILURE.
 */
export async function lxcAttach(id: string, argv: string[]): Promise<number> {
  if (!/^\d+$/.test(id) || !ctRunning(id) || readText(ctConfPath(id)) === null)
    throw new SimError(
      `lxc-attach: ${id}: ../src/lxc/attach.c: get_attach_context: 406 Connection refused - Failed to get init pid\n` +
        `lxc-attach: ${id}: ../src/lxc/attach.c: lxc_attach: 1474 Connection refused - Failed to get attach context`,
      1,
    );
  const conf = readCt(id);
  const map = idMap(conf);
  const r = await runIsolated({
    rootfs: rootfsDir(conf)!,
    binds: ctBinds(conf),
    idmap: map,
    argv,
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      container: 'lxc',
      TERM: process.env.TERM ?? 'dumb',
    },
    targetOwner: `${hostId(map, 'u', 0)}:${hostId(map, 'g', 0)}`,
    stdin: 'inherit',
  });
  return r.rc;
}

/** `pct push <id> <file> <dest> [--user u] [--group g] [--perms mode]` */
async function push(args: string[]): Promise<number> {
  const p = parsePveArgsExpecting(args, 3);
  const [id, file, dest] = p.positional;
  const o = parseOptions(p);
  const conf = readCt(id);
  if (!ctRunning(id)) throw new SimError(`container '${id}' not running!`, 255);
  const script = 'cat > "$1" && chown "$2" "$1" && chmod "$3" "$1"';
  const r = await runIsolated({
    rootfs: rootfsDir(conf)!,
    binds: ctBinds(conf),
    idmap: idMap(conf),
    argv: ['sh', '-c', script, 'sh', dest, `${o.user ?? 'root'}:${o.group ?? o.user ?? 'root'}`, o.perms ?? '644'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    stdin: readFileSync(file),
    capture: true,
  });
  if (r.rc !== 0) throw new SimError(`failed to push file: ${r.stderr.toString().trim()}`, 255);
  return 0;
}
