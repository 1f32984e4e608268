// pvesm: storage.cfg parsing/writing and the planner, on recorded facts (the
// spec's storage.cfg example). No host needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pvesm, { overlay, planPvesm, type PvesmArgs, type PvesmFacts } from '../modules/pvesm.js';
import { predictionRecord, Predictions, storageSlot } from '../src/predictions.js';
import {
  commaSet,
  effectiveValue,
  parseStorageCfg,
  sameStorageValue,
  serializeStorageCfg,
} from '../src/proxmox/storage-cfg.js';

// spec §2, verbatim
const SPEC_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup
\tprune-backups keep-all=1

zfspool: local-zfs
\tpool rpool/data
\tcontent images,rootdir
\tsparse 1

nfs: nas
\texport /srv/nfs/pve
\tpath /mnt/pve/nas
\tserver 10.0.0.5
\tcontent backup,images
\toptions vers=4.2
`;

const facts = (text = SPEC_CFG): PvesmFacts => ({ storages: parseStorageCfg(text) });
const parse = (raw: unknown): PvesmArgs => pvesm.args.parse(raw);
const argvs = (p: ReturnType<typeof planPvesm>) => p.changes.map((c) => c.argv ?? `(${c.description})`);
const argError = (raw: unknown): string => {
  const r = pvesm.args.safeParse(raw);
  assert.equal(r.success, false, 'expected an argument error');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
};

test('storage.cfg: parses the spec example and writes it back byte-identical', () => {
  const defs = parseStorageCfg(SPEC_CFG);
  assert.deepEqual(
    defs.map((d) => `${d.type}:${d.id}`),
    ['dir:local', 'zfspool:local-zfs', 'nfs:nas'],
  );
  assert.deepEqual(defs[2].keys, {
    export: '/srv/nfs/pve',
    path: '/mnt/pve/nas',
    server: '10.0.0.5',
    content: 'backup,images',
    options: 'vers=4.2',
  });
  assert.equal(serializeStorageCfg(defs), SPEC_CFG);
});

test('storage.cfg: bare disable flag, comments with spaces, # lines, missing trailing newline', () => {
  const text =
    '# managed\ndir: backup\n\tcomment  nightly  "dumps" $(x)  \n\tdisable\n\tpath /srv/backup\n\tcontent backup\n\tnodes pve2,pve1';
  const [d] = parseStorageCfg(text);
  assert.equal(d.keys.disable, '1');
  assert.equal(d.keys.comment, 'nightly  "dumps" $(x)');
  assert.equal(
    serializeStorageCfg([d]),
    'dir: backup\n\tcomment nightly  "dumps" $(x)\n\tdisable\n\tpath /srv/backup\n\tcontent backup\n\tnodes pve2,pve1\n',
  );
});

test('storage.cfg: defaults and set comparison', () => {
  const [local, zfs, nas] = parseStorageCfg(SPEC_CFG);
  assert.equal(effectiveValue({ type: 'nfs', id: 'x', keys: {} }, 'path'), '/mnt/pve/x');
  assert.equal(effectiveValue({ type: 'dir', id: 'x', keys: {} }, 'content'), 'images,rootdir');
  assert.equal(effectiveValue(zfs, 'disable'), '0');
  assert.equal(effectiveValue(nas, 'content'), 'backup,images');
  assert.equal(effectiveValue(local, 'content'), 'iso,vztmpl,backup');
  assert.deepEqual(commaSet('vztmpl, iso,backup,iso'), ['backup', 'iso', 'vztmpl']);
  assert.ok(sameStorageValue('content', 'iso,vztmpl,backup', 'backup,iso,vztmpl'));
  assert.ok(!sameStorageValue('content', 'iso,vztmpl', 'iso,vztmpl,backup'));
  assert.ok(sameStorageValue('sparse', '1', 'yes'));
  assert.ok(sameStorageValue('path', '/srv/x/', '/srv/x'));
  assert.ok(!sameStorageValue('options', 'vers=4.2', 'vers=4.1'));
});

test('add: a missing dir storage becomes one pvesm add with fixed keys first', () => {
  const p = planPvesm(
    facts(),
    parse({
      id: 'backup',
      type: 'dir',
      path: '/srv/backup',
      content: ['backup', 'iso'],
      nodes: 'pve1,pve2',
      shared: false,
    }),
  );
  assert.deepEqual(argvs(p), [
    [
      'pvesm',
      'add',
      'dir',
      'backup',
      '--path',
      '/srv/backup',
      '--content',
      'backup,iso',
      '--nodes',
      'pve1,pve2',
      '--shared',
      '0',
    ],
  ]);
  assert.deepEqual(p.result?.added, ['backup']);
  assert.deepEqual(predictionRecord(p.predict), {
    'storage:backup': {
      type: 'dir',
      id: 'backup',
      keys: { path: '/srv/backup', content: 'backup,iso', nodes: 'pve1,pve2', shared: '0' },
    },
  });
  assert.match(
    p.diff && !Array.isArray(p.diff) ? p.diff.after : '',
    /\ndir: backup\n\tpath \/srv\/backup\n\tcontent backup,iso\n/,
  );
});

test('add nfs: waits for the export first, then adds', () => {
  const p = planPvesm(
    facts(),
    parse({
      id: 'media',
      type: 'nfs',
      server: '127.0.0.1',
      export: '/tank/media',
      content: 'images',
      options: 'vers=4.2',
      nfs_timeout: 5,
    }),
  );
  assert.equal(p.changes.length, 2);
  assert.equal(p.changes[0].description, 'wait for NFS 127.0.0.1:/tank/media');
  assert.ok(p.changes[0].apply && !p.changes[0].argv);
  assert.deepEqual(p.changes[1].argv, [
    'pvesm',
    'add',
    'nfs',
    'media',
    '--server',
    '127.0.0.1',
    '--export',
    '/tank/media',
    '--content',
    'images',
    '--options',
    'vers=4.2',
  ]);
});

test('same definition with content/nodes in another order: no change', () => {
  const p = planPvesm(
    facts(),
    parse({
      id: 'local',
      type: 'dir',
      path: '/var/lib/vz/',
      content: ['backup', 'iso', 'vztmpl'],
      'prune-backups': { 'keep-all': 1 },
    }),
  );
  assert.deepEqual(p.changes, []);
  assert.equal(p.msg, 'storage definitions are as wanted');
  assert.equal(p.predict, undefined);
});

test('set only the keys that differ; null deletes a key', () => {
  const p = planPvesm(
    facts(),
    parse({
      id: 'nas',
      type: 'nfs',
      server: '10.0.0.5',
      export: '/srv/nfs/pve',
      content: 'images,backup,iso',
      options: null,
      disable: true,
    }),
  );
  assert.deepEqual(argvs(p), [
    ['pvesm', 'set', 'nas', '--content', 'images,backup,iso', '--disable', '1', '--delete', 'options'],
  ]);
  assert.deepEqual(p.result?.updated, ['nas']);
  const after = storageSlot.get(Predictions.of(p.predict!), 'nas')?.keys;
  assert.deepEqual(after, {
    export: '/srv/nfs/pve',
    path: '/mnt/pve/nas',
    server: '10.0.0.5',
    content: 'images,backup,iso',
    disable: '1',
  });
  const d = p.diff && !Array.isArray(p.diff) ? p.diff : undefined;
  assert.match(d!.after, /nfs: nas\n\tdisable\n\texport/);
});

test('default content counts as the current value', () => {
  const f = facts('zfspool: ct\n\tpool tank/ct\n');
  assert.deepEqual(
    planPvesm(f, parse({ id: 'ct', type: 'zfspool', pool: 'tank/ct', content: 'rootdir,images' })).changes,
    [],
  );
  assert.deepEqual(argvs(planPvesm(f, parse({ id: 'ct', type: 'zfspool', pool: 'tank/ct', content: 'rootdir' }))), [
    ['pvesm', 'set', 'ct', '--content', 'rootdir'],
  ]);
});

test('fixed-key drift fails, naming key, current and wanted; recreate removes and re-adds', () => {
  const a = { id: 'local-zfs', type: 'zfspool', pool: 'tank/data', content: 'images,rootdir', sparse: true };
  const p = planPvesm(facts(), parse(a));
  assert.deepEqual(p.changes, []);
  assert.match(p.fail ?? '', /storage 'local-zfs': fixed key pool is 'rpool\/data' on the host, wanted 'tank\/data'/);
  assert.match(p.fail ?? '', /recreate: true/);
  const r = planPvesm(facts(), parse({ ...a, recreate: true }));
  assert.deepEqual(argvs(r), [
    ['pvesm', 'remove', 'local-zfs'],
    ['pvesm', 'add', 'zfspool', 'local-zfs', '--pool', 'tank/data', '--content', 'images,rootdir', '--sparse', '1'],
  ]);
  assert.deepEqual(r.result?.updated, ['local-zfs']);
});

test('nfs recreate waits before removing, so a dead server leaves the old definition', () => {
  const p = planPvesm(
    facts(),
    parse({ id: 'nas', type: 'nfs', server: '10.0.0.6', export: '/srv/nfs/pve', recreate: true }),
  );
  assert.deepEqual(argvs(p), [
    '(wait for NFS 10.0.0.6:/srv/nfs/pve)',
    ['pvesm', 'remove', 'nas'],
    ['pvesm', 'add', 'nfs', 'nas', '--server', '10.0.0.6', '--export', '/srv/nfs/pve'],
  ]);
});

test('an nfs path that is only the default is not drift', () => {
  const p = planPvesm(
    facts(),
    parse({ id: 'nas', type: 'nfs', server: '10.0.0.5', export: '/srv/nfs/pve/', path: '/mnt/pve/nas' }),
  );
  assert.deepEqual(p.changes, []);
});

test('storage id taken by another type: clear failure', () => {
  const p = planPvesm(facts(), parse({ id: 'nas', type: 'dir', path: '/srv/nas' }));
  assert.equal(p.changes.length, 0);
  assert.match(p.fail ?? '', /storage ID 'nas' is already defined as type nfs, wanted dir/);
});

test('absent removes; absent of a missing storage is ok', () => {
  assert.deepEqual(argvs(planPvesm(facts(), parse({ id: 'nas', state: 'absent' }))), [['pvesm', 'remove', 'nas']]);
  assert.deepEqual(planPvesm(facts(), parse({ id: 'gone', state: 'absent' })).changes, []);
});

test("prune: removes definitions not in the list, never the installer's (local, local-zfs, local-lvm) unless named", () => {
  const list = {
    storages: [{ id: 'tank-ct', type: 'zfspool', pool: 'tank/ct', content: ['rootdir', 'images'] }],
    prune: true,
  };
  const p = planPvesm(facts(), parse(list));
  assert.deepEqual(argvs(p), [
    ['pvesm', 'add', 'zfspool', 'tank-ct', '--pool', 'tank/ct', '--content', 'rootdir,images'],
    ['pvesm', 'remove', 'nas'],
  ]);
  assert.deepEqual(p.result, {
    added: ['tank-ct'],
    updated: [],
    removed: ['nas'],
    kept: ['local', 'local-zfs'],
    in_use: {},
    other_nodes: {},
    storages: { 'tank-ct': { type: 'zfspool', pool: 'tank/ct', content: 'rootdir,images' } },
  });
  assert.deepEqual(predictionRecord(p.predict), {
    'storage:tank-ct': { type: 'zfspool', id: 'tank-ct', keys: { pool: 'tank/ct', content: 'rootdir,images' } },
    'storage:nas': null,
  });
  // naming local (local-zfs) absent is the only way to remove it
  const q = planPvesm(
    facts(),
    parse({
      storages: [
        { id: 'local', state: 'absent' },
        { id: 'local-zfs', state: 'absent' },
      ],
      prune: true,
    }),
  );
  assert.deepEqual(argvs(q), [
    ['pvesm', 'remove', 'local'],
    ['pvesm', 'remove', 'local-zfs'],
    ['pvesm', 'remove', 'nas'],
  ]);
  // `keep`, and types this module cannot declare (a default install's lvmthin local-lvm), stay
  const withLvm = facts(SPEC_CFG + '\nlvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n');
  const k = planPvesm(withLvm, parse({ ...list, keep: ['nas'] }));
  assert.deepEqual(argvs(k).slice(1), []);
  assert.deepEqual(k.result?.kept, ['local', 'local-zfs', 'nas', 'local-lvm']);
  assert.match(argError({ storages: [], keep: ['nas'] }), /keep only means something with prune: true/);
  // without prune nothing unlisted goes
  assert.deepEqual(planPvesm(facts(), parse({ storages: list.storages })).changes.length, 1);
});

test('check-mode predictions of earlier tasks are what later tasks see', () => {
  const first = planPvesm(facts(), parse({ id: 'backup', type: 'dir', path: '/srv/backup', content: 'backup' }));
  const predicted = Predictions.of(first.predict!);
  const f = overlay({ storages: parseStorageCfg(SPEC_CFG) }, undefined, predicted);
  assert.equal(f.predicted, true);
  const again = planPvesm(f, parse({ id: 'backup', type: 'dir', path: '/srv/backup', content: 'backup' }));
  assert.deepEqual(again.changes, []);
  const removedNas = overlay(
    { storages: parseStorageCfg(SPEC_CFG) },
    undefined,
    Predictions.of([storageSlot.entry('nas', null)]),
  );
  assert.deepEqual(
    removedNas.storages.map((s) => s.id),
    ['local', 'local-zfs'],
  );
});

test('several refusals are reported together and nothing is planned', () => {
  const p = planPvesm(
    facts(),
    parse({
      storages: [
        { id: 'nas', type: 'dir', path: '/x' },
        { id: 'local', type: 'dir', path: '/srv' },
        { id: 'new1', type: 'dir', path: '/n' },
      ],
    }),
  );
  assert.deepEqual(p.changes, []);
  assert.equal(p.fail?.split('\n').length, 2);
  assert.match(p.fail, /fixed key path is '\/var\/lib\/vz' on the host, wanted '\/srv'/);
});

test('argument errors are clear and located', () => {
  assert.match(
    argError({ id: 'x', type: 'dir', path: '/x' }),
    /^id: storage ID 'x' cannot be shorter than 2 characters/,
  );
  assert.match(
    argError({ id: 'my store', type: 'dir', path: '/x' }),
    /id: storage ID 'my store' contains illegal characters/,
  );
  assert.match(argError({ id: 'abc', path: '/x' }), /type: storage 'abc': type is required/);
  assert.match(argError({ id: 'abc', type: 'dir', pool: 'tank' }), /pool: pool is not a key of dir storage/);
  assert.match(argError({ id: 'abc', type: 'dir', pool: 'tank' }), /path: storage 'abc': dir storage needs path/);
  assert.match(
    argError({ id: 'abc', type: 'nfs', server: '10.0.0.1' }),
    /export: storage 'abc': nfs storage needs export/,
  );
  assert.match(argError({ id: 'abc', type: 'dir', path: 'relative' }), /path: path must be an absolute path/);
  assert.match(
    argError({ id: 'abc', type: 'dir', path: '/x', is_mountpoint: 'two\nlines' }),
    /is_mountpoint: is_mountpoint must not contain a newline/,
  );
  // pve-storage src/PVE/Storage/Plugin.pm ($defaultData->{propertyList}) and every plugin's options(): no
  // `comment` for storages; the CLI (pve-common CLIHandler, Getopt) says "Unknown option: comment"
  assert.match(
    argError({ id: 'abc', type: 'dir', path: '/x', comment: 'backups' }),
    /comment: comment is not a storage property: pve-storage has none .*Unknown option: comment.*YAML comment/,
  );
  assert.match(
    argError({ storages: [{ id: 'abc', type: 'dir', path: '/x', comment: 'x' }] }),
    /storages\.0\.comment: comment is not a storage property/,
  );
  assert.match(
    argError({ id: 'nas', type: 'nfs', server: 'a', export: '/x', nfs_showmount: false }),
    /nfs_showmount: nfs_showmount is gone: .*options: vers=4\.2/,
  );
  // pve-storage src/PVE/Storage/NFSPlugin.pm options(): no `shared` (NFS is shared anyway)
  assert.match(
    argError({ id: 'nas', type: 'nfs', server: 'a', export: '/x', shared: true }),
    /shared: shared is not a key of nfs storage/,
  );
  // ZFSPoolPlugin.pm options(): no create-base-path
  assert.match(
    argError({ id: 'zp', type: 'zfspool', pool: 'tank', 'create-base-path': true }),
    /create-base-path is not a key of zfspool storage/,
  );
  assert.match(argError({ id: 'abc', type: 'dir', path: '/x', colour: 'red' }), /colour|Unrecognized key/);
  assert.match(argError({ id: 'abc', type: 'dir', path: '/x', storages: [] }), /not both/);
  assert.match(
    argError({
      storages: [
        { id: 'ab', type: 'dir', path: '/a' },
        { id: 'ab', type: 'dir', path: '/b' },
      ],
    }),
    /storages.1.id: storage 'ab' is listed twice/,
  );
  assert.match(argError({ storages: [], content: 'images' }), /put content inside each storage/);
  assert.match(argError({ id: 'abc', type: 'dir', path: '/x', prune: true }), /prune needs the whole list/);
  assert.match(argError({ storages: [{ id: 'abc', type: 'zfspool', pool: null }] }), /pool/);
  assert.match(argError({}), /id is required/);
});

test('hostile values stay literal in argv', () => {
  const comment = `it's "mine" $(touch /tmp/pwned) \`id\` ; rm -rf /`;
  const p = planPvesm(facts(), parse({ id: 'odd', type: 'dir', path: '/srv/with space/$(x)', is_mountpoint: comment }));
  assert.deepEqual(p.changes[0].argv, [
    'pvesm',
    'add',
    'dir',
    'odd',
    '--path',
    '/srv/with space/$(x)',
    '--is_mountpoint',
    comment,
  ]);
});
