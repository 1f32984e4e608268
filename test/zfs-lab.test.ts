// zfs_dataset against a lab host over SSH: create with properties, a second run
// ok, check mode predicting the first run exactly without touching the zfs
// state, sizes written differently, inherited vs local, children refusal,
// hostile property values kept literal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zfsDataset from '../modules/zfs_dataset.js';
import { comparable, useTestLab } from './pvesm-zfs-nfs-lab.js';

const t = useTestLab();

const get = (props: string, ds: string) => t.sh(`zfs get -H -p -o property,value,source ${props} '${ds}'`);

const WANT = {
  name: 'tank/shared/portainer',
  properties: { compression: 'lz4', quota: '2G', atime: false, 'phx:role': 'portainer data' },
};

test('fresh host: check predicts the first run exactly and changes nothing; second run ok', async () => {
  const before = await t.snapshot();
  const check = await t.run(zfsDataset, WANT, { check: true, diff: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(check.changed, true);
  assert.equal(await t.snapshot(), before, 'zfs state byte-identical after --check');
  assert.deepEqual(check.diff, {
    before: '',
    after:
      'tank/shared/portainer\ncompression=lz4\t(local)\nquota=2147483648\t(local)\natime=off\t(local)\nphx:role=portainer data\t(local)\n',
    before_header: 'zfs tank/shared/portainer',
    after_header: 'zfs tank/shared/portainer',
  });

  const real = await t.run(zfsDataset, WANT);
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(check));
  assert.equal(real.created, true);
  assert.equal(real.mountpoint, '/tank/shared/portainer');
  assert.equal(
    await get('compression,quota,atime,phx:role', 'tank/shared/portainer'),
    'compression\tlz4\tlocal\nquota\t2147483648\tlocal\natime\toff\tlocal\nphx:role\tportainer data\tlocal\n',
  );
  assert.equal((await t.exec('test -d /tank/shared/portainer')).rc, 0, 'mounted at its mountpoint');

  const again = await t.run(zfsDataset, WANT);
  assert.equal(again.changed, false, String(again.msg));
  assert.equal(again.created, false);
});

test('sizes written differently are equal; only differing properties are set', async () => {
  await t.sh('zfs create -o quota=1G -o compression=lz4 tank/media');
  const same = await t.run(zfsDataset, { name: 'tank/media', properties: { quota: '1024M', compression: 'lz4' } });
  assert.equal(same.changed, false, String(same.msg));
  const n = t.commands.length;
  const r = await t.run(
    zfsDataset,
    { name: 'tank/media', properties: { quota: '1073741824', compression: 'zstd', recordsize: '1M' } },
    { diff: true },
  );
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(r.changed_properties, ['compression', 'recordsize']);
  assert.ok(
    t.commands.slice(n).some((c) => c.includes('zfs set -- compression=zstd recordsize=1M tank/media')),
    t.commands.slice(n).join('\n'),
  );
  assert.equal(
    await get('compression,recordsize', 'tank/media'),
    'compression\tzstd\tlocal\nrecordsize\t1048576\tlocal\n',
  );
  const none = await t.run(zfsDataset, { name: 'tank/media', properties: { quota: 'none' } });
  assert.deepEqual(none.changed_properties, ['quota']);
  assert.equal(await get('quota', 'tank/media'), 'quota\t0\tlocal\n');
  assert.equal((await t.run(zfsDataset, { name: 'tank/media', properties: { quota: 'none' } })).changed, false);
});

test('inherited value: fine by default, set locally when properties_source: local', async () => {
  await t.sh('zfs create -o compression=lz4 tank/parent && zfs create tank/parent/child');
  const any = await t.run(zfsDataset, { name: 'tank/parent/child', properties: { compression: 'lz4' } });
  assert.equal(any.changed, false, String(any.msg));
  const local = await t.run(zfsDataset, {
    name: 'tank/parent/child',
    properties: { compression: 'lz4' },
    properties_source: 'local',
  });
  assert.equal(local.changed, true);
  assert.equal(await get('compression', 'tank/parent/child'), 'compression\tlz4\tlocal\n');
  assert.equal(
    (
      await t.run(zfsDataset, {
        name: 'tank/parent/child',
        properties: { compression: 'lz4' },
        properties_source: 'local',
      })
    ).changed,
    false,
  );
});

test('an existing dataset is converged with set (create -p would ignore -o)', async () => {
  await t.sh('zfs create tank/exists');
  // relatime is on by default on Linux (openzfs module/zcommon/zfs_prop.c zfs_prop_init(): relatime 1 unless FreeBSD)
  assert.equal(await get('relatime', 'tank/exists'), 'relatime\ton\tdefault\n');
  const r = await t.run(zfsDataset, { name: 'tank/exists', properties: { relatime: 'off' } });
  assert.equal(r.created, false);
  assert.deepEqual(r.changed_properties, ['relatime']);
  assert.equal(await get('relatime', 'tank/exists'), 'relatime\toff\tlocal\n');
});

test('absent: children refused without recursive (nothing destroyed), destroyed with it', async () => {
  await t.sh('zfs create -p tank/ct/a && zfs create tank/ct/b');
  const r = await t.run(zfsDataset, { name: 'tank/ct', state: 'absent' });
  assert.equal(r.failed, true);
  assert.equal(
    r.msg,
    "cannot destroy 'tank/ct': filesystem has children; set recursive: true to destroy the following datasets too: tank/ct/a, tank/ct/b",
  );
  assert.match(await t.sh('zfs list -H -o name -r tank/ct'), /tank\/ct\/b/);
  const before = await t.snapshot();
  const check = await t.run(zfsDataset, { name: 'tank/ct', state: 'absent', recursive: true }, { check: true });
  assert.equal(check.changed, true);
  assert.equal(await t.snapshot(), before);
  const gone = await t.run(zfsDataset, { name: 'tank/ct', state: 'absent', recursive: true });
  assert.deepEqual(comparable(gone), comparable(check));
  assert.deepEqual(gone.destroyed, ['tank/ct', 'tank/ct/a', 'tank/ct/b']);
  assert.equal((await t.exec('zfs list -H -o name tank/ct')).rc, 1);
  assert.equal((await t.run(zfsDataset, { name: 'tank/ct', state: 'absent' })).changed, false);
});

test('hostile values stay literal; bad names and values are argument errors; zfs errors pass through', async () => {
  const marker = `/tmp/phx-zfs-pwned-${process.pid}`;
  const note = `it's "x" $(touch ${marker}) \`touch ${marker}\`; a  b`;
  const r = await t.run(zfsDataset, { name: 'tank/odd name', properties: { 'phx:note': note } });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(await get('phx:note', 'tank/odd name'), `phx:note\t${note}\tlocal\n`);
  assert.equal((await t.exec(`test -e ${marker}`)).rc, 1);
  assert.equal((await t.run(zfsDataset, { name: 'tank/odd name', properties: { 'phx:note': note } })).changed, false);
  assert.throws(() => zfsDataset.args.parse({ name: 'tank/x', properties: { 'phx:note': 'a\nb' } }), /newline or TAB/);
  assert.throws(() => zfsDataset.args.parse({ name: '/tank/x' }), /must not start or end with/);
  const badValue = await t.run(zfsDataset, { name: 'tank/y', properties: { compression: 'fast-please' } });
  assert.equal(badValue.failed, true);
  assert.match(String(badValue.msg), /cannot create 'tank\/y': 'compression' must be one of/);
  const noPool = await t.run(zfsDataset, { name: 'nopool/x' });
  assert.equal(noPool.failed, true);
  assert.match(String(noPool.msg), /no such pool 'nopool'/);
  const badProp = await t.run(zfsDataset, { name: 'tank', properties: { colour: 'red' } });
  assert.equal(badProp.failed, true);
  assert.match(String(badProp.msg), /bad property list: invalid property 'colour'/);
});

test('one round trip to read; tasks on one connection may run concurrently', async () => {
  const names = ['tank/c1', 'tank/c2', 'tank/c3'];
  const first = await Promise.all(
    names.map((name) => t.run(zfsDataset, { name, properties: { compression: 'zstd' } })),
  );
  assert.deepEqual(
    first.map((r) => [r.changed, r.failed]),
    names.map(() => [true, undefined]),
  );
  const n = t.commands.length;
  const again = await Promise.all(
    names.map((name) => t.run(zfsDataset, { name, properties: { compression: 'zstd' } })),
  );
  assert.deepEqual(
    again.map((r) => r.changed),
    [false, false, false],
  );
  assert.equal(t.commands.length - n, 3, 'one read per task, nothing else');
  assert.equal(
    await t.sh("zfs list -H -o name,compression -r tank | grep '/c'"),
    'tank/c1\tzstd\ntank/c2\tzstd\ntank/c3\tzstd\n',
  );
});

// openzfs module/zcommon/zfs_prop.c zfs_prop_init(): acltype_table, compress_table, xattr_table (2.3: on = sa);
// zprop_common.c zprop_index_to_string() prints the first name of the table with the stored number
test('aliases: zfs get prints the canonical name; a second run with the alias is ok', async () => {
  await t.sh('zfs create tank/alias && zfs set acltype=posixacl compression=gzip-6 tank/alias');
  assert.equal(
    await get('acltype,compression', 'tank/alias'),
    'acltype\tposix\tlocal\ncompression\tgzip\tlocal\n',
    'the lab prints what real zfs prints',
  );
  assert.equal(await t.sh('zfs version'), 'zfs-2.3.4-pve1\nzfs-kmod-2.3.4-pve1\n');
  // the pool has xattr=sa, which zfs 2.3 prints as "on"
  assert.equal(await get('xattr', 'tank'), 'xattr\ton\tlocal\n');
  const want = { name: 'tank/acl', properties: { acltype: 'posixacl', compression: 'gzip-6', xattr: 'sa' } };
  const before = await t.snapshot();
  const check = await t.run(zfsDataset, want, { check: true });
  assert.equal(await t.snapshot(), before);
  const first = await t.run(zfsDataset, want);
  assert.equal(first.failed, undefined, String(first.msg));
  assert.deepEqual(comparable(first), comparable(check));
  assert.deepEqual(first.properties, { acltype: 'posix', compression: 'gzip', xattr: 'on' });
  const again = await t.run(zfsDataset, want);
  assert.equal(again.changed, false, String(again.msg));
  // an existing dataset set with the canonical names: the aliases match it
  const existing = await t.run(zfsDataset, {
    name: 'tank/alias',
    properties: { acltype: 'posixacl', compression: 'gzip-6' },
  });
  assert.equal(existing.changed, false, String(existing.msg));
});

// openzfs lib/libzfs/libzfs_dataset.c zfs_valid_proplist(): "'%s' does not apply to datasets of this type"
test('volume properties: the lab refuses them on a filesystem like zfs; the module before running anything', async () => {
  await t.sh('zfs create tank/fs');
  const set = await t.exec('zfs set volblocksize=16K tank/fs');
  assert.equal(set.rc, 1);
  assert.equal(
    set.stderr,
    "cannot set property for 'tank/fs': 'volblocksize' does not apply to datasets of this type\n",
  );
  const create = await t.exec('zfs create -o volsize=1G tank/fs2');
  assert.equal(create.rc, 1);
  assert.equal(create.stderr, "cannot create 'tank/fs2': 'volsize' does not apply to datasets of this type\n");
  const readonly = await t.exec('zfs set casesensitivity=mixed tank/fs');
  assert.equal(readonly.stderr, "cannot set property for 'tank/fs': 'casesensitivity' is readonly\n");
  const n = t.commands.length;
  assert.throws(
    () => zfsDataset.args.parse({ name: 'tank/fs', properties: { volblocksize: '16K' } }),
    /'volblocksize' does not apply to filesystems/,
  );
  assert.equal(t.commands.length, n, 'nothing ran');
});

// zfs_main.c zfs_do_set(): getopt(argc, argv, "u") — glibc getopt: options anywhere until "--"
test('the lab reads options like getopt: "--" ends them; a name starting with - is refused by the module', async () => {
  await t.sh('zfs create tank/opts');
  assert.equal((await t.exec('zfs set -- phx:a=1 tank/opts')).rc, 0);
  assert.equal(await get('phx:a', 'tank/opts'), 'phx:a\t1\tlocal\n');
  const asOption = await t.exec('zfs set -u:x=1 tank/opts');
  assert.equal(asOption.rc, 2, 'getopt reads -u:x=1 as options');
  assert.match(asOption.stderr, /^invalid option ':'\nusage:/);
  assert.equal((await t.exec('zfs set phx:b=2 tank/opts -u')).rc, 0, 'glibc getopt permutes: -u after the operands');
  assert.equal((await t.exec("zfs set -- '-u:x=1' tank/opts")).rc, 0, "after '--' it is a user property");
  assert.equal(await t.sh("zfs get -H -o value -- compression,'-u:x' tank/opts"), 'lz4\n1\n');
  assert.throws(
    () => zfsDataset.args.parse({ name: 'tank/opts', properties: { '-u:x': '1' } }),
    /zfs would read a leading '-' as an option/,
  );
  const r = await t.run(zfsDataset, { name: 'tank/opts', properties: { 'phx:a': '3' } });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.ok(t.commands.some((c) => c.includes('zfs set -- phx:a=3 tank/opts')));
});

// zfs_main.c zfs_do_destroy() / destroy_check_dependent(): snapshots are dependents; `zfs list` hides
// them unless -t snapshot|all (the pool's listsnapshots=off)
test('snapshots: zfs destroy refuses them without -r; the module says so before any command', async () => {
  await t.sh('zfs create -p tank/snapme/child && zfs snapshot tank/snapme@s1 && zfs snapshot -r tank/snapme@s2');
  assert.equal(await t.sh('zfs list -H -o name -r tank/snapme'), 'tank/snapme\ntank/snapme/child\n');
  assert.equal(
    await t.sh('zfs list -H -o name -t all -r tank/snapme'),
    'tank/snapme\ntank/snapme@s1\ntank/snapme@s2\ntank/snapme/child\ntank/snapme/child@s2\n',
  );
  assert.equal(await t.sh('zfs list -H -o name -t snapshot tank/snapme/child@s2'), 'tank/snapme/child@s2\n');
  const raw = await t.exec('zfs destroy tank/snapme');
  assert.equal(raw.rc, 1);
  assert.equal(
    raw.stderr,
    "cannot destroy 'tank/snapme': filesystem has children\nuse '-r' to destroy the following datasets:\n" +
      'tank/snapme/child@s2\ntank/snapme/child\ntank/snapme@s1\ntank/snapme@s2\n',
  );
  await t.sh('zfs destroy -r tank/snapme/child');
  const snapOnly = await t.exec('zfs destroy tank/snapme');
  assert.equal(
    snapOnly.stderr,
    "cannot destroy 'tank/snapme': filesystem has children\nuse '-r' to destroy the following datasets:\ntank/snapme@s1\ntank/snapme@s2\n",
  );
  const n = t.commands.length;
  const refused = await t.run(zfsDataset, { name: 'tank/snapme', state: 'absent' });
  assert.equal(refused.failed, true);
  assert.equal(
    refused.msg,
    "cannot destroy 'tank/snapme': filesystem has children; set recursive: true to destroy the following datasets too: tank/snapme@s1, tank/snapme@s2",
  );
  assert.equal(t.commands.length - n, 1, 'only the read ran');
  const check = await t.run(zfsDataset, { name: 'tank/snapme', state: 'absent', recursive: true }, { check: true });
  const gone = await t.run(zfsDataset, { name: 'tank/snapme', state: 'absent', recursive: true });
  assert.deepEqual(comparable(gone), comparable(check));
  assert.deepEqual(gone.destroyed, ['tank/snapme', 'tank/snapme@s1', 'tank/snapme@s2']);
  assert.equal(await t.sh('zfs list -H -o name -t all -r tank | grep snapme || true'), '');
  assert.equal((await t.run(zfsDataset, { name: 'tank/snapme', state: 'absent' })).changed, false);
});
