// The simulated pvesm is as strict as the real one (pve-storage 9.1.7, pve-common
// SectionConfig): each storage type takes exactly its plugin's options(); NFS
// readiness is NFSPlugin::check_connection; `pvesm list` shows the volumes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SimRoot } from '../lab/testkit.js';

const s = new SimRoot('pve1');
after(() => s.cleanup());

const cfg = () => readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8');

// pve-common src/PVE/CLIHandler.pm (Getopt over createSchema, the union of all types' properties):
// pve-storage src/PVE/Storage/Plugin.pm has no `comment` property, nor has any plugin
test('pvesm add/set --comment: unknown option, nothing written', () => {
  const before = cfg();
  const r = s.run('pvesm', 'add', 'dir', 'backup', '--path', '/srv/backup', '--comment', 'nightly');
  assert.equal(r.stderr, 'Unknown option: comment\n400 unable to parse option\n');
  assert.equal(r.rc, 255);
  assert.equal(
    s.run('pvesm', 'set', 'local', '--comment', 'x').stderr,
    'Unknown option: comment\n400 unable to parse option\n',
  );
  assert.equal(cfg(), before);
});

// pve-common src/PVE/SectionConfig.pm check_config/check_value; pve-storage API2/Storage/Config.pm create
// (check_config before the lock: no "create storage failed:" prefix)
test('pvesm add: a key another type knows is an unexpected property; a required one missing says so', () => {
  const zfsPath = s.run('pvesm', 'add', 'zfspool', 'zp', '--pool', 'tank', '--path', '/tank');
  assert.equal(zfsPath.stderr, "unexpected property 'path'\n");
  assert.equal(zfsPath.rc, 255);
  // NFSPlugin.pm options(): no `shared` (an NFS storage is shared anyway)
  assert.equal(
    s.run('pvesm', 'add', 'nfs', 'nas', '--server', '127.0.0.1', '--export', '/x', '--shared', '1').stderr,
    "unexpected property 'shared'\n",
  );
  assert.equal(
    s.run('pvesm', 'add', 'nfs', 'nas', '--server', '127.0.0.1').stderr,
    "missing value for required option 'export'\n",
  );
  assert.doesNotMatch(cfg(), /zp|nas/);
});

// pve-storage API2/Storage/Config.pm update: check_config and the delete checks run inside the lock
test('pvesm set: fixed keys, keys of other types, deletes — with the real messages', () => {
  assert.equal(s.run('pvesm', 'add', 'dir', 'media', '--path', '/srv/media', '--shared', '1').rc, 0);
  const failed = (...a: string[]) => s.run('pvesm', 'set', 'media', ...a).stderr;
  // `path` is fixed in every type: updateSchema leaves it out, so the parser refuses it
  assert.equal(failed('--path', '/x'), 'Unknown option: path\n400 unable to parse option\n');
  // `pool` is changeable for rbd: it passes the parser and fails in check_config, as a fixed key of
  // zfspool, or as a key a dir storage does not have
  assert.equal(failed('--pool', 'tank'), "update storage failed: unexpected property 'pool'\n");
  assert.equal(s.run('pvesm', 'add', 'zfspool', 'zp', '--pool', 'tank').rc, 0);
  assert.equal(
    s.run('pvesm', 'set', 'zp', '--pool', 'tank/x').stderr,
    "update storage failed: can't change value of fixed parameter 'pool'\n",
  );
  assert.equal(failed('--sparse', '1'), "update storage failed: unexpected property 'sparse'\n");
  assert.equal(failed('--delete', 'comment'), "update storage failed: no such option 'comment'\n");
  assert.equal(failed('--delete', 'path'), "update storage failed: unable to delete required option 'path'\n");
  assert.equal(
    failed('--delete', 'shared', '--shared', '0'),
    "update storage failed: cannot set and delete property 'shared' at the same time!\n",
  );
  assert.equal(s.run('pvesm', 'set', 'media', '--delete', 'shared').rc, 0);
  assert.doesNotMatch(cfg(), /shared/);
});

// pve-storage src/PVE/Storage/NFSPlugin.pm check_connection: vers=4 → rpcinfo (then TCP), else showmount's status
test('a v4-only server (nfs.conf vers3=n): showmount fails, rpcinfo nfs 4 answers; only vers=4 storages are online', () => {
  mkdirSync(s.path('/srv/nfs4/pve/sub'), { recursive: true });
  writeFileSync(s.path('/etc/exports'), '/srv/nfs4/pve 127.0.0.1(rw,no_subtree_check)\n');
  writeFileSync(s.path('/etc/nfs.conf'), '[nfsd]\n# NFSv4 only\nvers3=n\n');
  assert.equal(s.run('systemctl', 'start', 'nfs-server').rc, 0);
  const sm = s.run('showmount', '-e', '127.0.0.1');
  assert.equal(sm.rc, 1);
  assert.match(sm.stderr, /Program not registered/);
  assert.equal(
    s.run('rpcinfo', '-T', 'tcp', '127.0.0.1', 'nfs', '4').stdout,
    'program 100003 version 4 ready and waiting\n',
  );
  assert.equal(s.run('rpcinfo', '-t', '127.0.0.1', 'nfs', '3').rc, 1);
  const v3 = s.run('pvesm', 'add', 'nfs', 'nas3', '--server', '127.0.0.1', '--export', '/srv/nfs4/pve');
  assert.equal(v3.stderr, "create storage failed: storage 'nas3' is not online\n");
  // a subdirectory of the export, over v4
  const v4 = s.run(
    'pvesm',
    'add',
    'nfs',
    'nas4',
    '--server',
    '127.0.0.1',
    '--export',
    '/srv/nfs4/pve/sub',
    '--options',
    'vers=4.2',
  );
  assert.equal(v4.rc, 0, v4.stderr);
  assert.match(s.run('pvesm', 'status').stdout, /nas4 +nfs +active/);
  writeFileSync(s.path('/etc/nfs.conf'), '');
  assert.equal(s.run('showmount', '-e', '127.0.0.1').rc, 0, 'v3 back: mountd answers');
});

// pve-storage src/PVE/Storage.pm volume_list: the volumes of the storage's content types
test('pvesm list: guest disks, backups and templates on the storage', () => {
  mkdirSync(s.path('/srv/vols/images/101/vm-101-disk-0.raw'.replace(/\/vm-.*$/, '')), { recursive: true });
  writeFileSync(s.path('/srv/vols/images/101/vm-101-disk-0.raw'), '');
  mkdirSync(s.path('/srv/vols/dump'), { recursive: true });
  writeFileSync(s.path('/srv/vols/dump/vzdump-lxc-105-2026_01_01-00_00_00.tar.zst'), '');
  assert.equal(s.run('pvesm', 'add', 'dir', 'vols', '--path', '/srv/vols', '--content', 'images,backup').rc, 0);
  const out = s.run('pvesm', 'list', 'vols').stdout.split('\n').filter(Boolean);
  assert.match(out[0], /^Volid +Format +Type +Size VMID$/);
  assert.match(out[1], /^vols:101\/vm-101-disk-0\.raw +raw +images +\d+ 101$/);
  assert.match(out[2], /^vols:backup\/vzdump-lxc-105-2026_01_01-00_00_00\.tar\.zst +tzst +backup +\d+ 105$/);
  assert.equal(s.run('pvesm', 'list', 'vols', '--content', 'iso').stdout.split('\n').filter(Boolean).length, 1);
});

// pve-storage src/PVE/Storage/Plugin.pm parse_config: `local` is always there (dir, /var/lib/vz, all content)
test('storage.cfg without local: PVE still has it, and writes it with the next change', () => {
  writeFileSync(s.path('/etc/pve/storage.cfg'), 'dir: only\n\tpath /srv/only\n\tcontent iso\n');
  assert.match(s.run('pvesm', 'status').stdout, /\nlocal +dir +active/);
  assert.equal(
    s.run('pvesm', 'add', 'dir', 'local', '--path', '/x').stderr,
    "create storage failed: storage ID 'local' already defined\n",
  );
  assert.equal(s.run('pvesm', 'set', 'only', '--content', 'iso,backup').rc, 0);
  assert.match(
    cfg(),
    /^dir: local\n\tpath \/var\/lib\/vz\n\tcontent backup,images,iso,rootdir,snippets,vztmpl\n\tprune-backups keep-all=1\n\ndir: only\n/,
  );
});
