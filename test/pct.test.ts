// Unit tests of the pct planner and its parsers, on recorded facts (no host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pct, { configEdit, plan, type PctFacts } from '../modules/pct.js';
import { containerSlot, datasetSlot, pathSlot, predictedHostPath, Predictions } from '../src/predictions.js';
import {
  effectiveConfig,
  pendingFromFile,
  lowestFreeMpIndex,
  mountPoints,
  parsePctConfig,
  parsePctPending,
  parsePropertyString,
  pendingKeys,
  propertyStringsMatch,
  setStaysPending,
  valuesMatch,
} from '../src/proxmox/pct-config.js';
import { containerRoot, mapToHost } from '../src/proxmox/idmap.js';

const SPEC_CONFIG = `arch: amd64
cores: 2
description: media%3A server%0Aline two 100%25
hostname: media
memory: 2048
mp0: /tank/media,mp=/mnt/media
mp1: local-zfs:subvol-105-disk-1,mp=/data,backup=1,size=8G
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth
ostype: debian
rootfs: local-zfs:subvol-105-disk-0,size=8G
swap: 512
unprivileged: 1
lxc.idmap: u 0 100000 1005
lxc.idmap = u 1005 1005 1
lxc.idmap: u 1006 101006 64530
lxc.idmap: g 0 200000 65536
`;

const args = (a: Record<string, unknown>) => pct.args.parse(a);
const noPred = { check: false };
const running = (text: string, pending = ''): PctFacts => ({
  ctid: 105,
  ct: { config: parsePctConfig(text), status: 'running', pending: parsePctPending(pending) },
});
const stopped = (text: string): PctFacts => ({
  ctid: 105,
  ct: { config: parsePctConfig(text), status: 'stopped', pending: [] },
});

test('pct config: keys, %-escaped description, lxc.* lines in order', () => {
  const c = parsePctConfig(SPEC_CONFIG);
  assert.equal(c.keys.hostname, 'media');
  assert.equal(c.keys.description, 'media: server\nline two 100%');
  assert.equal(c.keys.mp1, 'local-zfs:subvol-105-disk-1,mp=/data,backup=1,size=8G');
  assert.deepEqual(
    c.lxc.map((e) => e.value),
    ['u 0 100000 1005', 'u 1005 1005 1', 'u 1006 101006 64530', 'g 0 200000 65536'],
  );
  assert.equal(c.pending, undefined);
});

test('on-disk .conf: # description, [pve:pending] with delete, snapshots skipped', () => {
  const c = parsePctConfig(`#my%3A box
#second
arch: amd64
mp0: /a,mp=/x
unprivileged: 1

[pve:pending]
delete: mp0,swap
memory: 4096

[snap1]
hostname: old
lxc.idmap: u 0 1 2
`);
  assert.equal(c.keys.description, 'my: box\nsecond');
  assert.equal(c.keys.hostname, undefined);
  assert.deepEqual(c.pending, { memory: '4096' });
  assert.deepEqual(c.pendingDelete, ['mp0', 'swap']);
  assert.deepEqual(c.lxc, []);
});

test('on-disk form: effective config merges pending values and deletes; pending list from the section', () => {
  const file = parsePctConfig(
    '#caf%C3%A9 %3A 100%25\ncores: 2\nmp0: /a,mp=/x\nmp1: /b,mp=/y\nlxc.idmap: u 0 100000 65536\n\n[pve:pending]\ndelete: mp1\nmp0: /a2,mp=/x\n',
  );
  assert.equal(file.keys.description, 'café : 100%');
  const eff = effectiveConfig(file);
  assert.equal(eff.keys.mp0, '/a2,mp=/x');
  assert.equal(eff.keys.mp1, undefined);
  assert.equal(eff.lxc.length, 1);
  assert.deepEqual(pendingFromFile(file), [
    { key: 'mp0', cur: '/a,mp=/x', new: '/a2,mp=/x' },
    { key: 'mp1', del: '/b,mp=/y' },
  ]);
  assert.deepEqual(pendingKeys(pendingFromFile(file)), ['mp0', 'mp1']);
});

test('pct pending: cur/new/del lines; only new/del count as pending', () => {
  const p = parsePctPending(`cur cores: 2
cur memory: 2048
new memory: 4096
cur mp0: /tank/a,mp=/a
del mp0: /tank/a,mp=/a
cur hostname: media
`);
  assert.deepEqual(pendingKeys(p).sort(), ['memory', 'mp0']);
  assert.equal(p.find((e) => e.key === 'memory')?.new, '4096');
});

test('property strings compare as key/value sets; generated keys may be extra', () => {
  assert.deepEqual(parsePropertyString('local:8,mp=/data,backup=1'), {
    volume: 'local:8',
    props: { mp: '/data', backup: '1' },
  });
  assert.ok(
    propertyStringsMatch(
      'name=eth0,bridge=vmbr0,ip=dhcp',
      'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth',
    ),
  );
  assert.ok(propertyStringsMatch('/tank/media,backup=1,mp=/mnt/media', '/tank/media,mp=/mnt/media,backup=1'));
  assert.ok(propertyStringsMatch('local-zfs:8,mp=/data', 'local-zfs:subvol-105-disk-1,mp=/data,size=8G'));
  assert.ok(!propertyStringsMatch('local-zfs:8,mp=/data', 'other:subvol-105-disk-1,mp=/data,size=8G'));
  assert.ok(
    !propertyStringsMatch('/tank/media,mp=/mnt/media', '/tank/media,mp=/mnt/media,ro=1'),
    'a non-generated extra key is a difference',
  );
  assert.ok(!propertyStringsMatch('/tank/other,mp=/mnt/media', '/tank/media,mp=/mnt/media'));
  assert.ok(propertyStringsMatch('nesting=true,keyctl=1', 'keyctl=1,nesting=1'));
});

test('plain values: 1/true, tags as sets, description without trailing newline', () => {
  assert.ok(valuesMatch('onboot', 'true', '1'));
  assert.ok(valuesMatch('tags', 'web,prod', 'prod;web'));
  assert.ok(!valuesMatch('tags', 'web', 'prod;web'));
  assert.ok(valuesMatch('description', 'x\n', 'x'));
  assert.ok(!valuesMatch('memory', '1024', undefined));
});

test('idmap: custom map (ct-start 0 entry), default unprivileged, privileged', () => {
  assert.deepEqual(containerRoot(parsePctConfig(SPEC_CONFIG)), { uid: 100000, gid: 200000 });
  assert.equal(mapToHost(parsePctConfig(SPEC_CONFIG), 'u', 1005), 1005);
  assert.equal(mapToHost(parsePctConfig(SPEC_CONFIG), 'u', 1006), 101006);
  assert.deepEqual(containerRoot(parsePctConfig('unprivileged: 1\n')), { uid: 100000, gid: 100000 });
  assert.equal(mapToHost(parsePctConfig('unprivileged: 1\n'), 'g', 33), 100033);
  assert.deepEqual(containerRoot(parsePctConfig('hostname: x\n')), { uid: 0, gid: 0 });
  assert.deepEqual(containerRoot(parsePctConfig('unprivileged: 1\nlxc.idmap: u 0 300000 65536\n')), {
    uid: 300000,
    gid: 100000,
  });
});

test('mount points are matched by path, not index; new ones take the lowest free mpN', () => {
  const cfg = parsePctConfig('mp0: /tank/a,mp=/a\nmp2: /tank/c,mp=/c\nunprivileged: 1\n');
  assert.deepEqual(
    mountPoints(cfg).map((m) => [m.key, m.path]),
    [
      ['mp0', '/a'],
      ['mp2', '/c'],
    ],
  );
  assert.equal(lowestFreeMpIndex(new Set([0, 2])), 1);
  const e = configEdit(
    cfg,
    args({
      ctid: 105,
      mounts: [
        { path: '/c/', volume: '/tank/c' },
        { path: '/b', volume: '/tank/b' },
        { path: '/d', volume: '/tank/d', ro: true },
        { path: '/a', volume: '/tank/a2' },
      ],
    }),
  );
  assert.deepEqual(e.set, { mp1: '/tank/b,mp=/b', mp3: '/tank/d,mp=/d,ro=1', mp0: '/tank/a2,mp=/a' });
  assert.deepEqual(e.pending, ['mp0'], 'changing an existing mount waits for a restart; new ones are hot-plugged');
});

test('existing running CT: only differing keys are set; restart_required without if_needed', () => {
  const f = running(SPEC_CONFIG);
  const p = plan(
    f,
    args({
      ctid: 105,
      hostname: 'media',
      cores: 4,
      net0: { name: 'eth0', bridge: 'vmbr0', ip: 'dhcp' },
      features: 'nesting=1',
      mounts: [
        { path: '/mnt/media', volume: '/tank/media' },
        { path: '/srv', volume: '/tank/srv' },
      ],
    }),
    noPred,
  );
  assert.equal(p.fail, undefined);
  assert.deepEqual(
    p.changes.map((c) => c.argv),
    [['pct', 'set', '105', '--cores', '4', '--features', 'nesting=1', '--mp2', '/tank/srv,mp=/srv']],
  );
  assert.equal((p.result as Record<string, unknown>).restart_required, true, 'features stays pending on a running CT');
  assert.deepEqual((p.result as Record<string, unknown>).container_root, { uid: 100000, gid: 200000 });
  const p2 = plan(f, args({ ctid: 105, cores: 4, features: 'nesting=1', restart: 'if_needed' }), noPred);
  assert.deepEqual(
    p2.changes.map((c) => c.argv?.slice(0, 2).join(' ')),
    ['pct set', 'pct shutdown', 'pct start'],
  );
  const hot = plan(f, args({ ctid: 105, cores: 4, memory: 4096, restart: 'if_needed' }), noPred);
  assert.deepEqual(
    hot.changes.map((c) => c.argv?.slice(0, 2).join(' ')),
    ['pct set'],
    'cores/memory apply at once: no restart',
  );
});

test('pending changes already on the host trigger the restart with if_needed', () => {
  const f = running(SPEC_CONFIG, 'cur mp0: /tank/x,mp=/mnt/media\nnew mp0: /tank/media,mp=/mnt/media\n');
  const p = plan(f, args({ ctid: 105, restart: 'if_needed' }), noPred);
  assert.deepEqual(
    p.changes.map((c) => c.description),
    ['shut down CT 105', 'start CT 105'],
  );
  const q = plan(f, args({ ctid: 105 }), noPred);
  assert.equal(q.changes.length, 0);
  assert.equal((q.result as Record<string, unknown>).restart_required, true);
  assert.deepEqual((q.result as Record<string, unknown>).pending, ['mp0']);
});

test('nothing to do: ok, and a second plan of the same facts is empty', () => {
  const p = plan(stopped(SPEC_CONFIG), args({ ctid: 105, hostname: 'media', cores: 2, swap: 512 }), noPred);
  assert.equal(p.changes.length, 0);
  assert.equal((p.result as Record<string, unknown>).status, 'stopped');
});

test('create: unprivileged given at create, mounts in the create, wait for the lock, start', () => {
  const p = plan(
    { ctid: 105 },
    args({
      ctid: 105,
      state: 'started',
      ostemplate: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
      hostname: 'web',
      memory: 1024,
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      mounts: [{ path: '/data', volume: '/tank/data' }],
    }),
    noPred,
  );
  assert.deepEqual(p.changes[0].argv, [
    'pct',
    'create',
    '105',
    'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
    '--unprivileged',
    '1',
    '--hostname',
    'web',
    '--memory',
    '1024',
    '--net0',
    'name=eth0,bridge=vmbr0,ip=dhcp',
    '--mp0',
    '/tank/data,mp=/data',
  ]);
  assert.equal(p.changes[1].description, "wait for CT 105's lock to clear");
  assert.ok(p.changes[1].apply);
  assert.deepEqual(p.changes[2].argv, ['pct', 'start', '105']);
  assert.ok(!p.changes.some((c) => c.argv?.includes('set')), 'never pct set --unprivileged');
  const pred = Predictions.of(p.predict!);
  assert.equal(containerSlot.get(pred, 105)?.status, 'running');
  assert.equal(containerSlot.get(pred, '105')?.config.keys.unprivileged, '1');
  assert.deepEqual((p.result as Record<string, unknown>).container_root, { uid: 100000, gid: 100000 });
  const priv = plan(
    { ctid: 105 },
    args({ ctid: 105, ostemplate: 'local:vztmpl/x.tar.zst', unprivileged: false }),
    noPred,
  );
  assert.deepEqual(priv.changes[0].argv?.slice(4), ['--unprivileged', '0']);
  assert.deepEqual((priv.result as Record<string, unknown>).container_root, { uid: 0, gid: 0 });
});

test('clone: clone, wait, then set differing keys and add bind mounts', () => {
  const src = 'arch: amd64\ncores: 1\nhostname: tmpl\nrootfs: local:900/vm-900-disk-0.raw,size=4G\nunprivileged: 1\n';
  const f: PctFacts = { ctid: 105, source: { config: parsePctConfig(src), status: 'stopped', pending: [] } };
  const p = plan(
    f,
    args({
      ctid: 105,
      clone_from: 900,
      full: true,
      hostname: 'web',
      cores: 2,
      mounts: [{ path: '/data', volume: '/tank/data' }],
    }),
    noPred,
  );
  assert.deepEqual(
    p.changes.map((c) => c.argv ?? c.description),
    [
      ['pct', 'clone', '900', '105', '--hostname', 'web', '--full', '1'],
      "wait for CT 105's lock to clear",
      ['pct', 'set', '105', '--cores', '2', '--mp0', '/tank/data,mp=/data'],
    ],
  );
  const bad = plan(
    { ctid: 105, source: { config: parsePctConfig(src + 'mp0: /tank/x,mp=/x\n'), status: 'stopped', pending: [] } },
    args({ ctid: 105, clone_from: 900 }),
    noPred,
  );
  assert.match(bad.fail!, /bind\/device mount/);
  const missing = plan({ ctid: 105, source: null }, args({ ctid: 105, clone_from: 900 }), noPred);
  assert.match(missing.fail!, /clone_from CT 900 does not exist/);
  const unpriv = plan(f, args({ ctid: 105, clone_from: 900, unprivileged: false }), noPred);
  assert.match(unpriv.fail!, /keeps its source's setting/);
});

test('errors: unprivileged mismatch, missing CT without template, still locked, read failure', () => {
  assert.match(
    plan(stopped('hostname: a\n'), args({ ctid: 105, unprivileged: true }), noPred).fail!,
    /fixed at creation.*re-create/,
  );
  assert.match(
    plan({ ctid: 105 }, args({ ctid: 105, state: 'started' }), noPred).fail!,
    /does not exist; give ostemplate/,
  );
  assert.match(
    plan({ ctid: 105, stillLocked: 'create' }, args({ ctid: 105, lock_timeout: 5 }), noPred).fail!,
    /still locked \(create\) after 5 s/,
  );
  assert.match(plan({ ctid: 105, error: 'pct config 105 failed: boom' }, args({ ctid: 105 }), noPred).fail!, /boom/);
});

test('state: absent / stopped / restarted', () => {
  assert.deepEqual(
    plan(running(SPEC_CONFIG), args({ ctid: 105, state: 'absent' }), noPred).changes.map((c) => c.argv),
    [
      ['pct', 'stop', '105'],
      ['pct', 'destroy', '105'],
    ],
  );
  assert.equal(plan({ ctid: 105 }, args({ ctid: 105, state: 'absent' }), noPred).changes.length, 0);
  assert.deepEqual(
    plan(running(SPEC_CONFIG), args({ ctid: 105, state: 'stopped' }), noPred).changes.map((c) => c.argv),
    [['pct', 'shutdown', '105', '--timeout', '60']],
  );
  assert.deepEqual(
    plan(stopped(SPEC_CONFIG), args({ ctid: 105, state: 'restarted' }), noPred).changes.map((c) => c.argv),
    [['pct', 'start', '105']],
  );
  assert.deepEqual(
    plan(running(SPEC_CONFIG), args({ ctid: 105, state: 'restarted' }), noPred).changes.map((c) => c.argv),
    [
      ['pct', 'shutdown', '105', '--timeout', '60'],
      ['pct', 'start', '105'],
    ],
  );
});

test('check mode: a predicted CT is planned against instead of the host', () => {
  const first = plan({ ctid: 105 }, args({ ctid: 105, ostemplate: 'local:vztmpl/x.tar.zst', hostname: 'web' }), {
    check: true,
  });
  const predicted = Predictions.of(first.predict!);
  const a = args({ ctid: 105, hostname: 'web', mounts: [{ path: '/data', volume: '/tank/data' }] });
  const second = plan(pct.overlay!({ ctid: 105 }, a, predicted), a, { check: true });
  assert.equal(second.fail, undefined);
  assert.deepEqual(
    second.changes.map((c) => c.argv),
    [['pct', 'set', '105', '--mp0', '/tank/data,mp=/data']],
  );
});

test('a missing bind mount source is refused before anything changes (real run), not in check mode; a predicted dir counts', () => {
  const a = args({
    ctid: 105,
    state: 'started',
    ostemplate: 'local:vztmpl/x.tar.zst',
    mounts: [{ path: '/data', volume: '/tank/data' }],
  });
  const f: PctFacts = { ctid: 105, missingBindSources: ['/tank/data'] };
  const real = plan(f, a, noPred);
  assert.match(real.fail!, /bind mount source \/tank\/data does not exist on the host: CT 105 could not start/);
  assert.equal(real.changes.length, 0);
  assert.equal(plan(pct.overlay!(f, a, new Predictions()), a, { check: true }).fail, undefined);
  const dir = Predictions.of([pathSlot.entry('/tank/data/', { exists: true, type: 'directory' })]);
  assert.deepEqual(pct.overlay!(f, a, dir).missingBindSources, [], 'a predicted dir counts');
  assert.equal(plan(f, args({ ...a, state: 'present' }), noPred).fail, undefined, 'not started: nothing fails');
  const hot = plan(
    { ...running('unprivileged: 1\n'), missingBindSources: ['/tank/data'] },
    args({ ctid: 105, mounts: [{ path: '/data', volume: '/tank/data' }] }),
    noPred,
  );
  assert.match(hot.fail!, /could not mount it/);
});

test('predictedHostPath: path: predictions (file/copy/file_perm) and zfs mountpoints', () => {
  const pred = Predictions.of([
    pathSlot.entry('/srv/a', { exists: true, type: 'directory', uid: 5, gid: 6, mode: 0o750 }),
    pathSlot.entry('/srv/gone', { exists: false }),
    datasetSlot.entry('tank/data', { exists: true, properties: {}, mountpoint: '/tank/data' }),
  ]);
  assert.deepEqual(predictedHostPath(pred, '/srv/a/'), { type: 'd', uid: 5, gid: 6, mode: 0o750 });
  assert.equal(predictedHostPath(pred, '/srv/gone'), undefined);
  assert.deepEqual(predictedHostPath(pred, '/tank/data'), { type: 'd', uid: 0, gid: 0, mode: 0o755 });
  assert.equal(predictedHostPath(pred, '/tank/other'), undefined);
});

test('setStaysPending follows the spec lists', () => {
  assert.equal(setStaysPending('hostname', false), false);
  assert.equal(setStaysPending('memory', false), false);
  assert.equal(setStaysPending('net0', false), false);
  assert.equal(setStaysPending('mp3', true), false);
  assert.equal(setStaysPending('mp3', false), true);
  assert.equal(setStaysPending('features', false), true);
});

test('bad arguments are refused with clear messages', () => {
  const bad = (a: Record<string, unknown>) => {
    const r = pct.args.safeParse(a);
    assert.ok(!r.success, JSON.stringify(a));
    return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
  };
  assert.match(bad({ ctid: 5 }), /CT ids start at 100/);
  assert.match(bad({ ctid: 105, bogus: 1 }), /bogus/);
  assert.match(bad({ ctid: 105, ostemplate: 'x', clone_from: 900 }), /either ostemplate or clone_from/);
  assert.match(bad({ ctid: 105, mounts: [{ path: 'relative', volume: '/x' }] }), /absolute path/);
  assert.match(bad({ ctid: 105, mounts: [{ path: '/a,b', volume: '/x' }] }), /commas/);
  assert.match(bad({ ctid: 105, mounts: [{ path: '/a' }] }), /needs volume/);
  assert.match(bad({ ctid: 105, config: { unprivileged: 1 } }), /fixed at creation/);
  assert.match(
    bad({
      ctid: 105,
      mounts: [
        { path: '/a', volume: '/x' },
        { path: '/a/', volume: '/y' },
      ],
    }),
    /listed twice/,
  );
});

test('hostile values stay literal argv elements', () => {
  const p = plan(
    stopped('hostname: a\nunprivileged: 1\n'),
    args({ ctid: 105, description: "it's $(reboot) `x`\nline 2" }),
    noPred,
  );
  assert.deepEqual(p.changes[0].argv, ['pct', 'set', '105', '--description', "it's $(reboot) `x`\nline 2"]);
});

test('verify: restarted is verified as started, a restart is not asked again, pending left by PVE is restarted with if_needed', () => {
  const v = pct.verify;
  assert.ok(v && v !== true);
  const a = args({ ctid: 105, state: 'restarted', restart: 'if_needed' });
  assert.deepEqual(
    { state: v.steady!(a).state, restart: v.steady!(a).restart },
    { state: 'started', restart: 'never' },
  );
  const still = plan(running('unprivileged: 1\ncores: 2\n', 'cur cores: 2\nnew cores: 4\n'), v.steady!(a), noPred);
  assert.equal(still.changes.length, 0);
  assert.equal((still.result as Record<string, unknown>).restart_required, true);
  assert.deepEqual(
    v.settle!(a, still).map((c) => c.argv),
    [
      ['pct', 'shutdown', '105', '--timeout', '60'],
      ['pct', 'start', '105'],
    ],
  );
  assert.deepEqual(v.settle!(args({ ctid: 105, state: 'started' }), still), [], 'restart: never');
  const left = plan({ ctid: 105 }, args({ ctid: 105, state: 'stopped', ostemplate: 'x' }), noPred);
  assert.match(
    v.notConverged!(args({ ctid: 105, state: 'stopped' }), left),
    /^CT 105 did not converge: still needs create CT 105/,
  );
  assert.equal(
    v.notConverged!(args({ ctid: 105, state: 'absent' }), { changes: left.changes }),
    'CT 105 did not converge: it still exists',
  );
  assert.equal(
    v.notConverged!(a, { changes: [], fail: 'CT 105 is locked' }),
    'CT 105 did not converge: CT 105 is locked',
  );
});

test('existing volume mount: storage:<GiB> keeps the volume id; larger is a resize; smaller or another storage refused', () => {
  // src/PVE/LXC/Config.pm apply_pending_mountpoint: `storage:size` ($NEW_DISK_RE) would be a new empty volume
  const ro = plan(
    stopped(SPEC_CONFIG),
    args({ ctid: 105, mounts: [{ path: '/data', volume: 'local-zfs:8', ro: true, backup: true }] }),
    noPred,
  );
  assert.deepEqual(
    ro.changes.map((c) => c.argv),
    [['pct', 'set', '105', '--mp1', 'local-zfs:subvol-105-disk-1,mp=/data,backup=1,ro=1']],
  );
  const grow = plan(
    stopped(SPEC_CONFIG),
    args({ ctid: 105, mounts: [{ path: '/data', volume: 'local-zfs:16', backup: true }] }),
    noPred,
  );
  assert.deepEqual(
    grow.changes.map((c) => c.argv),
    [['pct', 'resize', '105', 'mp1', '16G']],
  );
  const shrink = plan(
    stopped(SPEC_CONFIG),
    args({ ctid: 105, mounts: [{ path: '/data', volume: 'local-zfs:4' }] }),
    noPred,
  );
  assert.match(shrink.fail!, /mp1 \(\/data\) is 8G; shrinking it to 4G is not possible/);
  assert.equal(shrink.changes.length, 0);
  const move = plan(stopped(SPEC_CONFIG), args({ ctid: 105, mounts: [{ path: '/data', volume: 'tank:8' }] }), noPred);
  assert.match(move.fail!, /move-volume/);
});

test('netN keeps its hwaddr; nameserver/searchdomain/tags/numbers compare as PVE stores them', () => {
  // src/PVE/LXC.pm verify_nameserver_list; pve-guest-common GuestHelpers.pm get_unique_tags
  const p = plan(
    stopped(SPEC_CONFIG),
    args({ ctid: 105, net0: { name: 'eth0', bridge: 'vmbr1', ip: 'dhcp' } }),
    noPred,
  );
  assert.deepEqual(p.changes[0].argv, [
    'pct',
    'set',
    '105',
    '--net0',
    'name=eth0,bridge=vmbr1,ip=dhcp,hwaddr=BC:24:11:AA:BB:CC',
  ]);
  assert.ok(valuesMatch('nameserver', '1.1.1.1, 8.8.8.8;9.9.9.9', '1.1.1.1 8.8.8.8 9.9.9.9'));
  assert.ok(!valuesMatch('nameserver', '1.1.1.1', '1.1.1.1 8.8.8.8'));
  assert.ok(valuesMatch('searchdomain', 'a.lan;b.lan', 'a.lan b.lan'));
  assert.ok(valuesMatch('tags', 'Web,db', 'db;web'));
  assert.ok(valuesMatch('cpulimit', '1.0', '1'));
});

test('absent: protection, HA and replication refuse before anything; force_protection and purge proceed', () => {
  // src/PVE/API2/LXC.pm destroy_vm: check_protection, HA without purge, check_for_existing_jobs
  const prot = running(SPEC_CONFIG + 'protection: 1\n');
  const refused = plan(prot, args({ ctid: 105, state: 'absent' }), noPred);
  assert.equal(refused.changes.length, 0);
  assert.match(refused.fail!, /protection mode enabled.*force_protection: true/);
  assert.deepEqual(
    plan(prot, args({ ctid: 105, state: 'absent', force_protection: true }), noPred).changes.map((c) => c.argv),
    [
      ['pct', 'set', '105', '--protection', '0'],
      ['pct', 'stop', '105'],
      ['pct', 'destroy', '105'],
    ],
  );
  const ha = { ...running(SPEC_CONFIG), haResource: true, replicationJobs: [] };
  assert.match(plan(ha, args({ ctid: 105, state: 'absent' }), noPred).fail!, /ha-manager remove ct:105/);
  assert.deepEqual(
    plan(ha, args({ ctid: 105, state: 'absent', purge: true }), noPred).changes.map((c) => c.argv),
    [['pct', 'destroy', '105', '--force', '1', '--purge', '1']],
  );
  const repl = { ...stopped(SPEC_CONFIG), haResource: false, replicationJobs: ['105-0'] };
  assert.match(plan(repl, args({ ctid: 105, state: 'absent' }), noPred).fail!, /pvesr delete 105-0/);
  assert.deepEqual(
    plan(repl, args({ ctid: 105, state: 'absent', purge: true }), noPred).changes.map((c) => c.argv),
    [['pct', 'destroy', '105', '--purge', '1']],
  );
});

test('shutdown: --timeout from shutdown_timeout, --forceStop 1 with force_stop', () => {
  // src/PVE/API2/LXC/Status.pm vm_shutdown: timeout (default 60), forceStop
  assert.deepEqual(
    plan(running(SPEC_CONFIG), args({ ctid: 105, state: 'stopped', shutdown_timeout: 5, force_stop: true }), noPred)
      .changes[0].argv,
    ['pct', 'shutdown', '105', '--timeout', '5', '--forceStop', '1'],
  );
});
