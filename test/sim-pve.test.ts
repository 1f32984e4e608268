// The simulated pct, pvesm and zfs against the spec's examples and errors
// (../shared/spec/hypervisor-cli.md §1–3), run directly on a seeded temp root.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, statSync, existsSync, writeFileSync, chownSync } from 'node:fs';
import { SimRoot, TEMPLATE_VOL } from '../lab/testkit.js';

const s = new SimRoot('pve1');
after(() => s.cleanup());

const MISSING_CT = "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n";

test('pct on a missing CT: status/config/set/exec/pending rc 2, start rc 255, stop "not running"', () => {
  for (const args of [
    ['status', '999'],
    ['config', '999'],
    ['set', '999', '--cores', '2'],
    ['exec', '999', '--', 'true'],
    ['pending', '999'],
  ]) {
    const r = s.run('pct', ...args);
    assert.equal(r.stderr, MISSING_CT, args.join(' '));
    assert.equal(r.rc, 2);
  }
  const start = s.run('pct', 'start', '999');
  assert.equal(start.stderr, MISSING_CT);
  assert.equal(start.rc, 255);
  const stop = s.run('pct', 'stop', '999');
  assert.equal(stop.stderr, 'CT 999 not running\n');
  assert.notEqual(stop.rc, 0);
  assert.equal(s.run('pct', 'list').stdout, '', 'no CTs: empty list');
});

test('pct create: config sorted, unprivileged 1 as given, idmap 100000 on the rootfs, list format', () => {
  const r = s.run(
    'pct',
    'create',
    '101',
    TEMPLATE_VOL,
    '--unprivileged',
    '1',
    '--hostname',
    'nginx',
    '--rootfs',
    'local:4',
    '--net0',
    'name=eth0,bridge=vmbr0,ip=dhcp',
    '--memory',
    '512',
  );
  assert.equal(r.rc, 0, r.stderr);
  const conf = s.run('pct', 'config', '101').stdout;
  assert.match(
    conf,
    /^arch: amd64\nhostname: nginx\nmemory: 512\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth\nostype: debian\nrootfs: local:101\/subvol-101-disk-0\.subvol,size=4G\nunprivileged: 1\n$/,
  );
  assert.equal(
    readFileSync(s.path('/etc/pve/lxc/101.conf'), 'utf8'),
    conf,
    'on-disk file via the /etc/pve/lxc symlink',
  );
  const rootfs = s.path('/var/lib/vz/images/101/subvol-101-disk-0.subvol');
  assert.equal(statSync(rootfs).uid, 100000);
  assert.equal(
    s.run('pct', 'list').stdout,
    `${'VMID'.padEnd(10)} ${'Status'.padEnd(10)} ${'Lock'.padEnd(12)} ${'Name'.padEnd(20)}\n${'101'.padEnd(10)} ${'stopped'.padEnd(10)} ${''.padEnd(12)} ${'nginx'.padEnd(20)}\n`,
  );
  assert.equal(s.run('pct', 'status', '101').stdout, 'status: stopped\n');
});

test('pct create/clone with a used id; VM ids count too', () => {
  const r = s.run('pct', 'create', '101', TEMPLATE_VOL);
  assert.equal(r.stderr, "CT 101 already exists on node 'pve1'\n");
  assert.notEqual(r.rc, 0);
  assert.equal(s.run('pct', 'create', '1001', TEMPLATE_VOL).stderr, "VM 1001 already exists on node 'pve1'\n");
  assert.equal(
    s.run('pct', 'create', '102', 'local:vztmpl/nope.tar.zst').stderr,
    "volume 'local:vztmpl/nope.tar.zst' does not exist\n",
  );
});

test('pct set: unprivileged is read-only; mount points normalised; delete', () => {
  let r = s.run('pct', 'set', '101', '--unprivileged', '1');
  assert.equal(r.stderr, "unable to modify read-only option: 'unprivileged'\n");
  assert.notEqual(r.rc, 0);
  r = s.run('pct', 'set', '101', '--delete', 'unprivileged');
  assert.equal(r.stderr, "unable to delete read-only option: 'unprivileged'\n");
  mkdirSync(s.path('/tank/ssl'), { recursive: true });
  r = s.run('pct', 'set', '101', '--mp0', 'mp=/etc/nginx/ssl,/tank/ssl,backup=0');
  assert.equal(r.rc, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '', 'setters print nothing');
  assert.match(s.run('pct', 'config', '101').stdout, /^mp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,backup=0$/m);
  assert.equal(s.run('pct', 'set', '101', '--foo', '1').stderr, 'Unknown option: foo\n400 unable to parse option\n');
  s.run('pct', 'set', '101', '--mp5', '/tank/ssl,mp=/x');
  s.run('pct', 'set', '101', '--delete', 'mp5');
  assert.doesNotMatch(s.run('pct', 'config', '101').stdout, /mp5/);
});

test('pct start/stop/exec: running state, already running, exec when stopped', () => {
  // pve-container src/PVE/CLI/pct.pm exec: no state check, it execs lxc-attach, which fails (lxc
  // src/lxc/attach.c get_attach_context "Failed to get init pid"; tools/lxc_attach.c exit(EXIT_FAILURE))
  const stopped = s.run('pct', 'exec', '101', '--', 'true');
  assert.match(
    stopped.stderr,
    /^lxc-attach: 101: \S+attach\.c: get_attach_context: \d+ Connection refused - Failed to get init pid\n/,
  );
  assert.equal(stopped.rc, 1);
  assert.equal(s.run('pct', 'start', '101').rc, 0);
  assert.equal(s.run('pct', 'status', '101').stdout, 'status: running\n');
  const again = s.run('pct', 'start', '101');
  assert.equal(again.stderr, 'CT 101 already running\n');
  assert.notEqual(again.rc, 0);
  const verbose = s.run('pct', 'status', '101', '--verbose').stdout.trim().split('\n');
  assert.deepEqual(
    verbose.map((l) => l.split(':')[0]),
    [...verbose.map((l) => l.split(':')[0])].sort(),
  );
  assert.ok(verbose.includes('status: running') && verbose.includes('name: nginx'));
  assert.ok(existsSync(s.path('/var/lib/lxc/101/config')), 'generated LXC config at start');
  assert.match(readFileSync(s.path('/var/lib/lxc/101/config'), 'utf8'), /lxc\.idmap = u 0 100000 65536/);
});

test('pct exec: uid mapping (root = 100000, www-data = 100033), mount points at their mp= paths', () => {
  writeFileSync(s.path('/tank/ssl/nginx.key'), 'secret\n');
  chownSync(s.path('/tank/ssl/nginx.key'), 100000, 100000);
  const r = s.run(
    'pct',
    'exec',
    '101',
    '--',
    'sh',
    '-c',
    'chown root:www-data /etc/nginx/ssl/nginx.key && chmod 640 /etc/nginx/ssl/nginx.key && stat -c "%U:%G %a" /etc/nginx/ssl/nginx.key && id -u && cat /etc/hostname',
  );
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'root:www-data 640\n0\nnginx\n');
  const st = statSync(s.path('/tank/ssl/nginx.key'));
  assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [100000, 100033, 0o640]);
  // a host-root-owned file is "nobody" inside and root in the CT cannot take it
  writeFileSync(s.path('/tank/ssl/host-owned'), 'x');
  const denied = s.run(
    'pct',
    'exec',
    '101',
    '--',
    'sh',
    '-c',
    'stat -c %u /etc/nginx/ssl/host-owned; chown root /etc/nginx/ssl/host-owned',
  );
  assert.match(denied.stdout, /^65534\n/);
  assert.notEqual(denied.rc, 0);
  assert.equal(s.run('pct', 'exec', '101', '--', 'test', '-d', '/etc/nginx/ssl').rc, 0);
  // the template has no nginx (Proxmox's debian-12-standard): its unit is not found (systemctl's rc 5); ssh runs
  const noNginx = s.run('pct', 'exec', '101', '--', 'systemctl', 'reload', 'nginx');
  assert.deepEqual(
    [noNginx.rc, noNginx.stderr],
    [5, 'Failed to reload nginx.service: Unit nginx.service not found.\n'],
  );
  assert.equal(s.run('pct', 'exec', '101', '--', 'systemctl', 'reload', 'ssh').rc, 0);
  assert.equal(
    s.run('pct', 'exec', '101', '--', 'sh', '-c', 'exit 7').rc,
    7,
    "pct exec returns the inner command's rc",
  );
});

test('pct set on a running CT: a changed mount point stays pending; --current shows what is in effect', () => {
  assert.equal(s.run('pct', 'set', '101', '--mp0', '/tank/ssl,mp=/etc/nginx/ssl,ro=1').rc, 0);
  const pending = s.run('pct', 'pending', '101').stdout;
  assert.match(
    pending,
    /^cur mp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,backup=0\nnew mp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,ro=1$/m,
  );
  assert.match(s.run('pct', 'config', '101').stdout, /^mp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,ro=1$/m);
  assert.match(
    s.run('pct', 'config', '101', '--current', '1').stdout,
    /^mp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,backup=0$/m,
  );
  assert.match(
    readFileSync(s.path('/etc/pve/lxc/101.conf'), 'utf8'),
    /\n\[pve:pending\]\nmp0: \/tank\/ssl,mp=\/etc\/nginx\/ssl,ro=1\n$/,
  );
  // hostname applies at once
  s.run('pct', 'set', '101', '--hostname', 'gw');
  assert.doesNotMatch(s.run('pct', 'pending', '101').stdout, /new hostname/);
  // hotplug failure: nothing written
  const before = readFileSync(s.path('/etc/pve/lxc/101.conf'), 'utf8');
  const r = s.run('pct', 'set', '101', '--mp1', '/tank/absent,mp=/data');
  assert.equal(
    r.stderr,
    "400 Parameter verification failed.\nmp1: unable to hotplug mp1: directory '/tank/absent' does not exist\n",
  );
  assert.equal(readFileSync(s.path('/etc/pve/lxc/101.conf'), 'utf8'), before);
  // stop + start applies pending
  assert.equal(s.run('pct', 'stop', '101').rc, 0);
  assert.equal(s.run('pct', 'stop', '101').stderr, 'CT 101 not running\n');
  assert.equal(s.run('pct', 'start', '101').rc, 0);
  assert.doesNotMatch(s.run('pct', 'pending', '101').stdout, /^new /m);
  const ro = s.run('pct', 'exec', '101', '--', 'touch', '/etc/nginx/ssl/new');
  assert.match(ro.stderr, /Read-only file system/, 'ro=1 in effect after the restart');
  s.run('pct', 'stop', '101');
});

test('pct start with a missing bind source fails in the worker', () => {
  s.run('pct', 'set', '101', '--mp2', '/tank/gone,mp=/gone');
  const r = s.run('pct', 'start', '101');
  assert.equal(r.stdout, "directory '/tank/gone' does not exist\n");
  assert.equal(r.stderr, "startup for container '101' failed\n");
  assert.equal(r.rc, 255);
  s.run('pct', 'set', '101', '--delete', 'mp2');
});

test('pct clone: bind mounts refuse; a CT without them is copied with its unprivileged flag', () => {
  const r = s.run('pct', 'clone', '101', '105');
  assert.equal(r.stderr, "unable to clone mountpoint 'mp0' (type bind)\n");
  assert.notEqual(r.rc, 0);
  assert.equal(s.run('pct', 'create', '110', TEMPLATE_VOL, '--hostname', 'base', '--unprivileged', '1').rc, 0);
  const c = s.run('pct', 'clone', '110', '111', '--hostname', 'copy');
  assert.equal(c.rc, 0, c.stderr);
  const conf = s.run('pct', 'config', '111').stdout;
  assert.match(conf, /^hostname: copy$/m);
  assert.match(conf, /^unprivileged: 1$/m);
  assert.match(conf, /^rootfs: local:111\/subvol-111-disk-0\.subvol,size=4G$/m);
  assert.ok(existsSync(s.path('/var/lib/vz/images/111/subvol-111-disk-0.subvol/etc/passwd')));
});

test('pct create on a zfspool storage allocates subvol datasets; destroy frees them', () => {
  assert.equal(s.run('pvesm', 'add', 'zfspool', 'tank-ct', '--pool', 'tank', '--content', 'rootdir,images').rc, 0);
  const r = s.run(
    'pct',
    'create',
    '120',
    TEMPLATE_VOL,
    '--unprivileged',
    '1',
    '--rootfs',
    'tank-ct:8',
    '--mp0',
    'tank-ct:2,mp=/data',
  );
  assert.equal(r.rc, 0, r.stderr);
  const conf = s.run('pct', 'config', '120').stdout;
  assert.match(conf, /^rootfs: tank-ct:subvol-120-disk-0,size=8G$/m);
  assert.match(conf, /^mp0: tank-ct:subvol-120-disk-1,mp=\/data,size=2G$/m);
  assert.equal(s.run('zfs', 'list', '-H', '-o', 'name', 'tank/subvol-120-disk-1').stdout, 'tank/subvol-120-disk-1\n');
  assert.equal(
    statSync(s.path('/tank/subvol-120-disk-1')).uid,
    100000,
    'new volume top dir chowned to the mapped root',
  );
  assert.equal(
    s.run('zfs', 'get', '-H', '-p', '-o', 'value', 'refquota', 'tank/subvol-120-disk-0').stdout,
    '8589934592\n',
  );
  assert.equal(s.run('pct', 'destroy', '120').rc, 0);
  assert.equal(s.run('zfs', 'list', '-H', '-o', 'name', 'tank/subvol-120-disk-0').rc, 1);
});

test('pct create holds lock: create for createLockSeconds (fault), refusing other operations', async () => {
  writeFileSync(s.path('/var/lib/phx-lab/faults.json'), JSON.stringify({ createLockSeconds: 3 }));
  assert.equal(s.run('pct', 'create', '130', TEMPLATE_VOL, '--unprivileged', '1').rc, 0);
  const t0 = Date.now();
  assert.match(readFileSync(s.path('/etc/pve/lxc/130.conf'), 'utf8'), /^lock: create$/m);
  const r = s.run('pct', 'set', '130', '--cores', '2');
  const list = s.run('pct', 'list').stdout;
  if (Date.now() - t0 < 2500) {
    assert.equal(r.stderr, 'CT is locked (create)\n');
    assert.match(list, /^130 +stopped +create /m);
  }
  while (/lock: create/.test(readFileSync(s.path('/etc/pve/lxc/130.conf'), 'utf8'))) {
    assert.ok(Date.now() - t0 < 8000, 'lock cleared in time');
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(Date.now() - t0 >= 2000, 'the lock was held for the fault time');
  assert.equal(s.run('pct', 'set', '130', '--cores', '2').rc, 0);
  writeFileSync(s.path('/var/lib/phx-lab/faults.json'), '{}');
});

// ---- pvesm ------------------------------------------------------------------

test('pvesm add: existing id, bad ids, bad path, fixed keys on set, missing ids', () => {
  const exists = s.run('pvesm', 'add', 'dir', 'local', '--path', '/var/lib/vz');
  assert.equal(exists.stderr, "create storage failed: storage ID 'local' already defined\n");
  assert.equal(exists.rc, 255);
  assert.match(
    s.run('pvesm', 'add', 'dir', 'x', '--path', '/srv/x').stderr,
    /storage ID 'x' cannot be shorter than 2 characters/,
  );
  assert.match(
    s.run('pvesm', 'add', 'dir', 'a b', '--path', '/srv/x').stderr,
    /storage ID 'a b' contains illegal characters/,
  );
  assert.equal(
    s.run('pvesm', 'add', 'dir', 'rel', '--path', 'srv/x').stderr,
    'create storage failed: illegal path for directory storage: srv/x\n',
  );
  assert.equal(
    s.run('pvesm', 'set', 'local', '--path', '/x').stderr,
    'Unknown option: path\n400 unable to parse option\n',
  );
  assert.equal(
    s.run('pvesm', 'set', 'nope', '--content', 'iso').stderr,
    "update storage failed: storage 'nope' does not exist\n",
  );
  assert.equal(s.run('pvesm', 'remove', 'nope').stderr, "delete storage failed: storage 'nope' does not exist\n");
  assert.equal(
    s.run('pvesm', 'status', '--storage', 'nope').stderr,
    '400 Parameter verification failed.\nstorage: No such storage.\n',
  );
});

test('pvesm add nfs fails while NFS is not ready, writing nothing; works once it is', () => {
  const before = readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8');
  mkdirSync(s.path('/srv/nfs/pve'), { recursive: true });
  writeFileSync(s.path('/etc/exports'), '/srv/nfs/pve 127.0.0.1(rw,no_subtree_check)\n');
  const r = s.run(
    'pvesm',
    'add',
    'nfs',
    'nas',
    '--server',
    '127.0.0.1',
    '--export',
    '/srv/nfs/pve',
    '--content',
    'backup,images',
    '--options',
    'vers=4.2',
  );
  assert.equal(r.stderr, "create storage failed: storage 'nas' is not online\n");
  assert.equal(readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8'), before);
  assert.equal(s.run('systemctl', 'start', 'nfs-server').rc, 0);
  const ok = s.run(
    'pvesm',
    'add',
    'nfs',
    'nas',
    '--server',
    '127.0.0.1',
    '--export',
    '/srv/nfs/pve',
    '--content',
    'backup,images',
    '--options',
    'vers=4.2',
  );
  assert.equal(ok.rc, 0, ok.stderr);
});

test('storage.cfg is written in the real format; pvesm status matches the spec layout', () => {
  assert.equal(s.run('pvesm', 'set', 'tank-ct', '--disable', '1').rc, 0);
  assert.equal(
    readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8'),
    'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,rootdir,images\n\tprune-backups keep-all=1\n\n' +
      'zfspool: tank-ct\n\tdisable\n\tpool tank\n\tcontent rootdir,images\n\n' +
      'nfs: nas\n\texport /srv/nfs/pve\n\tpath /mnt/pve/nas\n\tserver 127.0.0.1\n\tcontent backup,images\n\toptions vers=4.2\n',
  );
  s.run('systemctl', 'stop', 'nfs-server');
  const st = s.run('pvesm', 'status');
  assert.equal(st.rc, 0);
  assert.equal(st.stderr, "storage 'nas' is not online\n");
  const lines = st.stdout.split('\n');
  assert.equal(lines[0], 'Name           Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %');
  assert.match(lines[1], /^local {11}dir {5}active +\d+ +\d+ +\d+ +\d+\.\d\d%$/);
  assert.equal(lines[2], 'nas             nfs   inactive               0               0               0    0.00%');
  assert.equal(lines[3], 'tank-ct     zfspool   disabled               0               0               0      N/A');
  assert.equal(
    s.run('pvesm', 'set', 'tank-ct', '--disable', '0', '--content', 'images,rootdir', '--nodes', 'pve1,pve2').rc,
    0,
  );
  assert.match(
    readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8'),
    /zfspool: tank-ct\n\tpool tank\n\tcontent images,rootdir\n\tnodes pve1,pve2\n/,
  );
  assert.equal(s.run('pvesm', 'remove', 'nas').rc, 0);
  assert.doesNotMatch(readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8'), /nas/);
});

// ---- zfs --------------------------------------------------------------------

test('zfs create/list/get: inheritance sources, exact bytes, real directories', () => {
  assert.equal(s.run('zfs', 'create', 'tank/media').rc, 0);
  assert.ok(statSync(s.path('/tank/media')).isDirectory());
  assert.match(
    s.run('zfs', 'list', '-H', '-p', '-o', 'name,used,avail,refer,mountpoint', 'tank/media').stdout,
    /^tank\/media\t98304\t\d+\t98304\t\/tank\/media\n$/,
  );
  assert.equal(
    s.run('zfs', 'get', '-H', '-o', 'value,source', 'compression', 'tank/media').stdout,
    'lz4\tinherited from tank\n',
  );
  assert.equal(s.run('zfs', 'list', '-H', '-o', 'name', 'tank/media').stdout, 'tank/media\n');
  const missing = s.run('zfs', 'list', '-H', '-o', 'name', 'tank/x');
  assert.equal(missing.stderr, "cannot open 'tank/x': dataset does not exist\n");
  assert.equal(missing.rc, 1);
  for (const args of [
    ['get', '-H', '-o', 'value', 'compression', 'tank/x'],
    ['set', 'atime=off', 'tank/x'],
    ['destroy', 'tank/x'],
  ])
    assert.equal(s.run('zfs', ...args).stderr, "cannot open 'tank/x': dataset does not exist\n");
  assert.equal(s.run('zfs', 'get', '-H', '-o', 'value,source', 'phx:owner', 'tank/media').stdout, '-\t-\n');
  assert.equal(s.run('zfs', 'get', '-H', '-p', '-o', 'value,source', 'quota', 'tank/media').stdout, '0\tdefault\n');
  assert.equal(s.run('zfs', 'get', '-H', '-o', 'value', 'quota', 'tank/media').stdout, 'none\n');
});

test('zfs set/inherit: an inherited value set locally becomes local; sizes normalised', () => {
  assert.equal(s.run('zfs', 'set', 'compression=lz4', 'quota=1G', 'tank/media').rc, 0);
  assert.equal(s.run('zfs', 'get', '-H', '-o', 'value,source', 'compression', 'tank/media').stdout, 'lz4\tlocal\n');
  assert.equal(
    s.run('zfs', 'get', '-H', '-p', '-o', 'value,source', 'quota', 'tank/media').stdout,
    '1073741824\tlocal\n',
  );
  assert.equal(s.run('zfs', 'get', '-H', '-o', 'value', 'quota', 'tank/media').stdout, '1G\n');
  assert.equal(s.run('zfs', 'inherit', 'compression', 'tank/media').rc, 0);
  assert.equal(
    s.run('zfs', 'get', '-H', '-o', 'value,source', 'compression', 'tank/media').stdout,
    'lz4\tinherited from tank\n',
  );
  const bad = s.run('zfs', 'get', '-H', '-o', 'value', 'foo', 'tank/media');
  assert.match(bad.stderr, /^bad property list: invalid property 'foo'\n/);
  assert.equal(bad.rc, 2);
  const badValue = s.run('zfs', 'set', 'compression=fast', 'tank/media');
  assert.match(badValue.stderr, /^cannot set property for 'tank\/media': /);
  assert.equal(badValue.rc, 1);
});

test('zfs create: exists, parent missing, -p ignores -o on an existing target', () => {
  assert.equal(s.run('zfs', 'create', 'tank/media').stderr, "cannot create 'tank/media': dataset already exists\n");
  assert.equal(s.run('zfs', 'create', 'tank/a/b').stderr, "cannot create 'tank/a/b': parent does not exist\n");
  assert.equal(s.run('zfs', 'create', '-p', '-o', 'atime=on', 'tank/a/b').rc, 0);
  assert.equal(
    s.run('zfs', 'get', '-H', '-o', 'value,source', 'mountpoint', 'tank/a/b').stdout,
    '/tank/a/b\tdefault\n',
  );
  assert.equal(s.run('zfs', 'create', '-p', '-o', 'atime=off', 'tank/a/b').rc, 0);
  assert.equal(s.run('zfs', 'get', '-H', '-o', 'value,source', 'atime', 'tank/a/b').stdout, 'on\tlocal\n');
  assert.ok(existsSync(s.path('/tank/a/b')));
});

test('zfs destroy: children need -r', () => {
  const r = s.run('zfs', 'destroy', 'tank/a');
  assert.equal(
    r.stderr,
    "cannot destroy 'tank/a': filesystem has children\nuse '-r' to destroy the following datasets:\ntank/a/b\n",
  );
  assert.equal(r.rc, 1);
  assert.equal(s.run('zfs', 'destroy', '-r', 'tank/a').rc, 0);
  assert.ok(!existsSync(s.path('/tank/a')));
  assert.equal(s.run('zfs', 'list', '-H', '-o', 'name', '-r', 'tank').stdout.includes('tank/a'), false);
});

test('zfs mountpoint: a child of a dataset with a set mountpoint follows it', () => {
  assert.equal(s.run('zfs', 'create', '-o', 'mountpoint=/quickOS/vm-data', 'quickOS/data').rc, 0);
  assert.equal(s.run('zfs', 'create', 'quickOS/data/1001').rc, 0);
  assert.equal(
    s.run('zfs', 'get', '-H', '-o', 'value,source', 'mountpoint', 'quickOS/data/1001').stdout,
    '/quickOS/vm-data/1001\tinherited from quickOS/data\n',
  );
  assert.ok(statSync(s.path('/quickOS/vm-data/1001')).isDirectory());
});

test('zfs destroy of a dataset a running CT uses: dataset is busy', () => {
  assert.equal(s.run('zfs', 'create', 'tank/shared').rc, 0);
  assert.equal(
    s.run('pct', 'create', '140', TEMPLATE_VOL, '--unprivileged', '1', '--mp0', '/tank/shared,mp=/shared').rc,
    0,
  );
  assert.equal(s.run('pct', 'start', '140').rc, 0);
  const r = s.run('zfs', 'destroy', 'tank/shared');
  assert.deepEqual([r.stderr, r.rc], ["cannot destroy 'tank/shared': dataset is busy\n", 1]);
  s.run('pct', 'stop', '140');
  assert.equal(s.run('zfs', 'destroy', 'tank/shared').rc, 0);
});

test("concurrent commands on one host do not lose each other's changes (state lock)", async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const main = fileURLToPath(new URL('../lab/sim/main.js', import.meta.url));
  const runAsync = (...args: string[]) =>
    new Promise<number>((res) =>
      spawn(process.execPath, [main, ...args], { env: { ...process.env, PHX_LAB_ROOT: s.root }, stdio: 'ignore' }).on(
        'close',
        (c) => res(c ?? -1),
      ),
    );
  const rcs = await Promise.all([
    ...Array.from({ length: 6 }, (_, i) => runAsync('zfs', 'create', `tank/par${i}`)),
    ...Array.from({ length: 4 }, (_, i) => runAsync('pvesm', 'add', 'dir', `par${i}`, '--path', `/srv/par${i}`)),
  ]);
  assert.deepEqual(rcs, Array(10).fill(0));
  const names = s.run('zfs', 'list', '-H', '-o', 'name', '-r', 'tank').stdout;
  for (let i = 0; i < 6; i++) assert.ok(names.includes(`tank/par${i}\n`), `tank/par${i}`);
  const cfg = readFileSync(s.path('/etc/pve/storage.cfg'), 'utf8');
  for (let i = 0; i < 4; i++) assert.ok(cfg.includes(`dir: par${i}\n`), `par${i}`);
});
