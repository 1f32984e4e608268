// zfs_dataset: sizes, zfs output parsing and the planner, on recorded facts
// (the spec's zfs outputs). No host needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zfsDataset, { planZfsDataset, type ZfsDatasetArgs, type ZfsDatasetFacts } from '../modules/zfs_dataset.js';
import { predictionRecord } from '../src/predictions.js';
import { normalizeValue, parseSize, sameValue } from '../src/proxmox/sizes.js';
import {
  datasetNameError,
  isMissingDataset,
  parseZfsGet,
  parseZfsList,
  propertyNameError,
  propertyNeedsSet,
} from '../src/proxmox/zfs.js';
import { appliesTo, canonicalValue, zfsVersionOf } from '../src/proxmox/zfs-props.js';

const parse = (raw: unknown): ZfsDatasetArgs => zfsDataset.args.parse(raw);
const argError = (raw: unknown): string => {
  const r = zfsDataset.args.safeParse(raw);
  assert.equal(r.success, false, 'expected an argument error');
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
};

// `zfs get -H -p -o property,value,source mountpoint,compression,quota,atime tank/media`
const MEDIA_GET =
  'mountpoint\t/tank/media\tdefault\ncompression\tlz4\tinherited from tank\nquota\t0\tdefault\natime\toff\tlocal\n';
const media = (): ZfsDatasetFacts => ({ exists: true, properties: parseZfsGet(MEDIA_GET), children: [] });
const missing = (ancestor?: { name: string; mountpoint: string }): ZfsDatasetFacts => ({
  exists: false,
  properties: {},
  children: [],
  ancestor,
});

test('sizes: 1G = 1024M = 1073741824, fractions, none', () => {
  assert.equal(parseSize('1G'), 1073741824n);
  assert.equal(parseSize('1024M'), 1073741824n);
  assert.equal(parseSize('1073741824'), 1073741824n);
  assert.equal(parseSize('1.5T'), 1649267441664n);
  assert.equal(parseSize('512k'), 524288n);
  assert.equal(parseSize('2GiB'), 2147483648n);
  assert.equal(parseSize('10 G'), 10737418240n);
  assert.equal(parseSize('lots'), undefined);
  assert.ok(sameValue('quota', '1G', '1024M'));
  assert.ok(sameValue('quota', '1G', '1073741824'));
  assert.ok(!sameValue('quota', '1G', '1000M'));
  assert.equal(normalizeValue('quota', 'none'), '0');
  assert.equal(normalizeValue('refquota', 'NONE'), '0');
  assert.equal(normalizeValue('recordsize', '128K'), '131072');
  assert.equal(normalizeValue('compression', '1G'), '1G', 'not a size property');
});

test('zfs output: get -H -p, list -H, missing dataset', () => {
  assert.deepEqual(parseZfsGet(MEDIA_GET).compression, { value: 'lz4', source: 'inherited from tank' });
  assert.deepEqual(parseZfsGet('phx:note\t-\t-\n')['phx:note'], { value: '-', source: '-' });
  assert.deepEqual(parseZfsList('tank/a\ntank/a/b\n'), ['tank/a', 'tank/a/b']);
  assert.ok(isMissingDataset("cannot open 'tank/x': dataset does not exist\n"));
  assert.ok(!isMissingDataset("bad property list: invalid property 'foo'\n"));
});

test('inherited vs local: an inherited equal value is fine unless local is asked', () => {
  const inherited = { value: 'lz4', source: 'inherited from tank' };
  assert.equal(propertyNeedsSet('compression', inherited, 'lz4', 'any'), false);
  assert.equal(propertyNeedsSet('compression', inherited, 'lz4', 'local'), true);
  assert.equal(propertyNeedsSet('compression', { value: 'lz4', source: 'local' }, 'lz4', 'local'), false);
  assert.equal(propertyNeedsSet('compression', { value: 'on', source: 'default' }, 'on', 'local'), true);
  // quota is never inherited: its default 0 equals `none`
  assert.equal(propertyNeedsSet('quota', { value: '0', source: 'default' }, 'none', 'local'), false);
  assert.equal(propertyNeedsSet('quota', undefined, 'none', 'any'), true);
});

test('missing dataset: one zfs create -p with every property, mountpoint from the ancestor', () => {
  const p = planZfsDataset(
    missing({ name: 'tank', mountpoint: '/tank' }),
    parse({ name: 'tank/shared/media', properties: { compression: 'lz4', quota: '10G', atime: false } }),
  );
  assert.deepEqual(
    p.changes.map((c) => c.argv),
    [['zfs', 'create', '-p', '-o', 'compression=lz4', '-o', 'quota=10G', '-o', 'atime=off', '--', 'tank/shared/media']],
  );
  assert.deepEqual(p.result, {
    name: 'tank/shared/media',
    created: true,
    mountpoint: '/tank/shared/media',
    properties: { compression: 'lz4', quota: '10737418240', atime: 'off' },
    changed_properties: ['compression', 'quota', 'atime'],
  });
  // the parents -p makes are predicted too
  assert.deepEqual(Object.keys(predictionRecord(p.predict)), [
    'zfs:tank/shared/media',
    'zfs:tank/shared',
    'path:/tank/shared/media',
    'path:/tank/shared',
  ]);
  assert.deepEqual(predictionRecord(p.predict)['zfs:tank/shared'], {
    exists: true,
    properties: {},
    mountpoint: '/tank/shared',
  });
  const other = planZfsDataset(missing({ name: 'quickOS', mountpoint: '/srv/quick' }), parse({ name: 'quickOS/ct' }));
  assert.equal(other.result?.mountpoint, '/srv/quick/ct');
  assert.deepEqual(other.changes[0].argv, ['zfs', 'create', '-p', '--', 'quickOS/ct']);
  assert.equal(
    planZfsDataset(missing(), parse({ name: 'tank/x', properties: { mountpoint: '/srv/x' } })).result?.mountpoint,
    '/srv/x',
  );
});

test('existing dataset: only differing properties are set, sizes compared in bytes', () => {
  const same = planZfsDataset(
    media(),
    parse({ name: 'tank/media', properties: { compression: 'lz4', quota: 'none', atime: 'off' } }),
  );
  assert.deepEqual(same.changes, []);
  assert.equal(same.result?.mountpoint, '/tank/media');
  const p = planZfsDataset(
    media(),
    parse({ name: 'tank/media', properties: { compression: 'zstd', quota: '1024M', atime: 'off' } }),
  );
  assert.deepEqual(
    p.changes.map((c) => c.argv),
    [['zfs', 'set', '--', 'compression=zstd', 'quota=1024M', 'tank/media']],
  );
  assert.deepEqual(p.result?.changed_properties, ['compression', 'quota']);
  assert.deepEqual(p.result?.properties, { compression: 'zstd', quota: '1073741824', atime: 'off' });
  const d = p.diff && !Array.isArray(p.diff) ? p.diff : undefined;
  assert.equal(
    d?.before,
    'tank/media\ncompression=lz4\t(inherited from tank)\nquota=0\t(default)\natime=off\t(local)\n',
  );
  assert.equal(d?.after, 'tank/media\ncompression=zstd\t(local)\nquota=1073741824\t(local)\natime=off\t(local)\n');
  // the same quota written differently is no change
  const q = planZfsDataset(
    {
      exists: true,
      properties: parseZfsGet('mountpoint\t/tank/media\tdefault\nquota\t1073741824\tlocal\n'),
      children: [],
    },
    parse({ name: 'tank/media', properties: { quota: '1G' } }),
  );
  assert.deepEqual(q.changes, []);
});

test('properties_source: local sets an inherited value that already matches', () => {
  const any = planZfsDataset(media(), parse({ name: 'tank/media', properties: { compression: 'lz4' } }));
  assert.deepEqual(any.changes, []);
  const local = planZfsDataset(
    media(),
    parse({ name: 'tank/media', properties: { compression: 'lz4' }, properties_source: 'local' }),
  );
  assert.deepEqual(
    local.changes.map((c) => c.argv),
    [['zfs', 'set', '--', 'compression=lz4', 'tank/media']],
  );
});

test('absent: refuses a dataset with children unless recursive', () => {
  const f: ZfsDatasetFacts = { exists: true, properties: {}, children: ['tank/ct/a', 'tank/ct/b'] };
  const p = planZfsDataset(f, parse({ name: 'tank/ct', state: 'absent' }));
  assert.deepEqual(p.changes, []);
  assert.equal(
    p.fail,
    "cannot destroy 'tank/ct': filesystem has children; set recursive: true to destroy the following datasets too: tank/ct/a, tank/ct/b",
  );
  const r = planZfsDataset(f, parse({ name: 'tank/ct', state: 'absent', recursive: true }));
  assert.deepEqual(
    r.changes.map((c) => c.argv),
    [['zfs', 'destroy', '-r', '--', 'tank/ct']],
  );
  assert.deepEqual(predictionRecord(r.predict), { 'zfs:tank/ct': null, 'zfs:tank/ct/a': null, 'zfs:tank/ct/b': null });
  assert.deepEqual(
    planZfsDataset(
      { exists: true, properties: {}, children: [] },
      parse({ name: 'tank/x', state: 'absent' }),
    ).changes.map((c) => c.argv),
    [['zfs', 'destroy', '--', 'tank/x']],
  );
  assert.deepEqual(planZfsDataset(missing(), parse({ name: 'tank/x', state: 'absent' })).changes, []);
});

test('names and argument errors', () => {
  assert.equal(datasetNameError('tank/with space/x'), undefined);
  assert.match(datasetNameError('/tank/x') ?? '', /must not start or end with '\/'/);
  assert.match(datasetNameError('tank//x') ?? '', /empty component/);
  assert.match(datasetNameError('tank/x@snap') ?? '', /snapshot/);
  assert.match(datasetNameError('tank/$(x)') ?? '', /illegal characters/);
  assert.match(
    argError({ name: 'tank/x', properties: { quota: 'lots' } }),
    /properties.quota: quota: 'lots' is not a size/,
  );
  assert.match(argError({ name: 'tank/x', properties: { 'Bad Name': 'x' } }), /is not a ZFS property name/);
  assert.match(argError({ name: 'tank/x', properties: { 'phx:note': 'a\nb' } }), /newline or TAB/);
  assert.match(
    argError({ name: 'tank/x', state: 'absent', properties: { atime: 'off' } }),
    /properties make no sense with state: absent/,
  );
  assert.match(argError({ name: 'tank/x', recurse: true }), /recurse|Unrecognized/);
  assert.match(argError({ name: 'tank/x', properties_source: 'inherited' }), /properties_source/);
  assert.deepEqual(parse({ name: 'tank/x', properties: { atime: true, copies: 2 } }).properties, {
    atime: 'on',
    copies: '2',
  });
});

test('hostile property values stay literal', () => {
  const v = `it's "x" $(touch /tmp/pwned) \`id\`; a b`;
  const p = planZfsDataset(media(), parse({ name: 'tank/media', properties: { 'phx:note': v } }));
  assert.deepEqual(p.changes[0].argv, ['zfs', 'set', '--', `phx:note=${v}`, 'tank/media']);
});

// openzfs module/zcommon/zfs_prop.c zfs_prop_init(): the index tables; `zfs get` prints the
// first name with the stored number (module/zcommon/zprop_common.c zprop_index_to_string())
test('canonical values: every alias is compared as the name zfs get prints', () => {
  assert.equal(canonicalValue('acltype', 'posixacl'), 'posix'); // acltype_table
  assert.equal(canonicalValue('acltype', 'noacl'), 'off');
  assert.equal(canonicalValue('acltype', 'disabled'), 'off');
  assert.equal(canonicalValue('acltype', 'nfsv4'), 'nfsv4');
  assert.equal(canonicalValue('compression', 'gzip-6'), 'gzip'); // compress_table: gzip is gzip-6, listed first
  assert.equal(canonicalValue('compression', 'gzip-5'), 'gzip-5');
  assert.equal(canonicalValue('compression', 'zstd-3'), 'zstd-3');
  assert.equal(canonicalValue('compression', 'zstd-fast'), 'zstd-fast');
  assert.equal(canonicalValue('aclinherit', 'secure'), 'restricted'); // acl_inherit_table
  assert.equal(canonicalValue('volmode', 'geom'), 'full'); // volmode_table
  assert.equal(canonicalValue('version', 'current'), '5'); // version_table: current = ZPL_VERSION 5
  assert.equal(canonicalValue('dedup', 'sha256,verify'), 'sha256,verify'); // dedup_table
  assert.equal(canonicalValue('dedup', 'verify'), 'verify');
  assert.equal(canonicalValue('checksum', 'sha256'), 'sha256');
  assert.equal(canonicalValue('atime', 'on'), 'on'); // boolean_table
  assert.equal(canonicalValue('canmount', 'noauto'), 'noauto'); // canmount_table
  assert.equal(canonicalValue('snapdir', 'visible'), 'visible'); // snapdir_table
  assert.equal(canonicalValue('sync', 'disabled'), 'disabled'); // sync_table
  assert.equal(canonicalValue('logbias', 'throughput'), 'throughput'); // logbias_table
  assert.equal(
    canonicalValue('compression', 'fast-please'),
    'fast-please',
    'unknown values are left for zfs to refuse',
  );
  // numbers as `zfs get -p` prints them
  assert.equal(canonicalValue('recordsize', '128K'), '131072');
  assert.equal(canonicalValue('quota', 'none'), '0');
  assert.equal(canonicalValue('mountpoint', '/srv/x/'), '/srv/x');
  assert.equal(canonicalValue('phx:note', 'posixacl'), 'posixacl', 'user properties are text');
});

// xattr_table differs between the versions Proxmox VE ships (zfs_prop.c at zfs-2.2.7, zfs-2.3.4, zfs-2.4.0)
test('xattr: the table of the host zfs version decides', () => {
  assert.equal(zfsVersionOf('zfs-2.2.7-pve1'), '2.2');
  assert.equal(zfsVersionOf('zfs-2.3.4-pve1'), '2.3');
  assert.equal(zfsVersionOf('zfs-2.4.0-1'), '2.4');
  assert.equal(zfsVersionOf(''), '2.2', 'no `zfs version` (before 0.8): the older table');
  // 2.2: off, on=dir, sa, dir
  assert.equal(canonicalValue('xattr', 'dir', '2.2'), 'on');
  assert.equal(canonicalValue('xattr', 'sa', '2.2'), 'sa');
  // 2.3: off, on=sa, sa, dir
  assert.equal(canonicalValue('xattr', 'sa', '2.3'), 'on');
  assert.equal(canonicalValue('xattr', 'dir', '2.3'), 'dir');
  // 2.4: off, sa, on=sa, dir
  assert.equal(canonicalValue('xattr', 'on', '2.4'), 'sa');
  const printed = { value: 'on', source: 'local' };
  assert.equal(propertyNeedsSet('xattr', printed, 'sa', 'any', '2.3'), false, '2.3 prints sa as on');
  assert.equal(propertyNeedsSet('xattr', printed, 'sa', 'any', '2.2'), true, 'on is dir on 2.2');
  assert.equal(propertyNeedsSet('xattr', printed, 'dir', 'any', '2.2'), false);
});

test('plan: a second run with an alias is ok (acltype: posixacl, compression: gzip-6)', () => {
  const f: ZfsDatasetFacts = {
    exists: true,
    properties: parseZfsGet(
      'mountpoint\t/tank/a\tdefault\ntype\tfilesystem\t-\nacltype\tposix\tlocal\ncompression\tgzip\tlocal\n',
    ),
    children: [],
  };
  const p = planZfsDataset(f, parse({ name: 'tank/a', properties: { acltype: 'posixacl', compression: 'gzip-6' } }));
  assert.deepEqual(p.changes, []);
  const fresh = planZfsDataset(missing(), parse({ name: 'tank/a', properties: { acltype: 'posixacl' } }));
  assert.deepEqual(fresh.result?.properties, { acltype: 'posix' }, 'the result says what zfs get will print');
});

// zfs_prop_init(): the ZFS_TYPE_* column; zfs_prop_user() and zprop_valid_char() for user names
test('properties that cannot apply are argument errors, before anything runs', () => {
  assert.equal(appliesTo('volblocksize', 'filesystem'), false);
  assert.equal(appliesTo('atime', 'volume'), false);
  assert.equal(appliesTo('compression', 'volume'), true);
  assert.match(
    argError({ name: 'tank/x', properties: { volblocksize: '16K' } }),
    /properties.volblocksize: 'volblocksize' does not apply to filesystems/,
  );
  assert.match(argError({ name: 'tank/x', properties: { volsize: '1G' } }), /'volsize' does not apply to filesystems/);
  assert.match(argError({ name: 'tank/x', properties: { used: '1G' } }), /'used' is readonly/);
  assert.match(argError({ name: 'tank/x', properties: { compress: 'lz4' } }), /write the property name 'compression'/);
  assert.match(argError({ name: 'tank/x', properties: { '-u:x': '1' } }), /zfs would read a leading '-' as an option/);
  assert.match(argError({ name: 'tank/x', properties: { 'Phx:Note': 'x' } }), /not a ZFS user property name/);
  assert.match(argError({ name: 'tank/x', properties: { 'phx note:x': 'x' } }), /not a ZFS user property name/);
  assert.equal(propertyNameError('org.example:role-1'), undefined);
  assert.equal(propertyNameError('casesensitivity'), undefined, 'settable at creation');
  assert.equal(propertyNameError('newprop'), undefined, 'unknown native names are left to zfs');
});

test('existing dataset: a volume and create-only properties are refused with the reason', () => {
  const vol: ZfsDatasetFacts = {
    exists: true,
    properties: parseZfsGet('mountpoint\t-\t-\ntype\tvolume\t-\natime\t-\t-\ncompression\tlz4\tlocal\n'),
    children: [],
  };
  const p = planZfsDataset(vol, parse({ name: 'tank/vm-1-disk-0', properties: { atime: 'off', compression: 'lz4' } }));
  assert.deepEqual(p.changes, []);
  assert.equal(
    p.fail,
    "'tank/vm-1-disk-0' is a volume: 'atime' does not apply to volumes (zfs_dataset manages filesystems)",
  );
  const fs: ZfsDatasetFacts = {
    exists: true,
    properties: parseZfsGet('mountpoint\t/tank/a\tdefault\ntype\tfilesystem\t-\ncasesensitivity\tsensitive\t-\n'),
    children: [],
  };
  const c = planZfsDataset(fs, parse({ name: 'tank/a', properties: { casesensitivity: 'insensitive' } }));
  assert.equal(
    c.fail,
    "cannot change casesensitivity (sensitive) of 'tank/a': zfs sets it only when a dataset is created",
  );
  assert.deepEqual(
    planZfsDataset(fs, parse({ name: 'tank/a', properties: { casesensitivity: 'sensitive' } })).changes,
    [],
  );
  const created = planZfsDataset(missing(), parse({ name: 'tank/b', properties: { casesensitivity: 'insensitive' } }));
  assert.deepEqual(created.changes[0].argv, [
    'zfs',
    'create',
    '-p',
    '-o',
    'casesensitivity=insensitive',
    '--',
    'tank/b',
  ]);
});

// zfs_main.c destroy_check_dependent(): snapshots are dependents like child datasets
test('absent: snapshots block a destroy without recursive', () => {
  const f: ZfsDatasetFacts = { exists: true, properties: {}, children: ['tank/x@s1'] };
  const p = planZfsDataset(f, parse({ name: 'tank/x', state: 'absent' }));
  assert.deepEqual(p.changes, []);
  assert.match(p.fail ?? '', /cannot destroy 'tank\/x': filesystem has children; .*tank\/x@s1/);
  const r = planZfsDataset(f, parse({ name: 'tank/x', state: 'absent', recursive: true }));
  assert.deepEqual(r.changes[0].argv, ['zfs', 'destroy', '-r', '--', 'tank/x']);
  assert.deepEqual(r.result?.destroyed, ['tank/x', 'tank/x@s1']);
  assert.deepEqual(
    predictionRecord(r.predict),
    { 'zfs:tank/x': null },
    'snapshots are not datasets later tasks look for',
  );
});
