// zfs_dataset: sizes, zfs output parsing and the planner, on recorded facts
// (the spec's zfs outputs). No host needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zfsDataset, { planZfsDataset, type ZfsDatasetArgs, type ZfsDatasetFacts } from '../modules/zfs_dataset.js';
import { normalizeValue, parseSize, sameValue } from '../src/proxmox/sizes.js';
import { datasetNameError, isMissingDataset, parseZfsGet, parseZfsList, propertyNeedsSet } from '../src/proxmox/zfs.js';

const parse = (raw: unknown): ZfsDatasetArgs => zfsDataset.args.parse(raw);
const argError = (raw: unknown): string => {
  const r = zfsDataset.args.safeParse(raw);
  assert.equal(r.success, false, 'expected an argument error');
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
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
  assert.deepEqual(Object.keys(p.predict!), [
    'zfs:tank/shared/media',
    'zfs:tank/shared',
    'path:/tank/shared/media',
    'path:/tank/shared',
  ]);
  assert.deepEqual(p.predict!['zfs:tank/shared'], { exists: true, properties: {}, mountpoint: '/tank/shared' });
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
  assert.deepEqual(r.predict, { 'zfs:tank/ct': null, 'zfs:tank/ct/a': null, 'zfs:tank/ct/b': null });
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
