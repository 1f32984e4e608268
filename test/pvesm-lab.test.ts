// pvesm against a lab host over SSH: first run changes, second run is ok, check
// mode on a fresh host predicts the first run exactly and changes nothing,
// drift and taken ids fail clearly, hostile values stay literal, an NFS storage
// waits for a late server and fails (writing nothing) when it never comes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pvesm from '../modules/pvesm.js';
import zfsDataset from '../modules/zfs_dataset.js';
import { comparable, serveNfs, useTestLab } from './pvesm-zfs-nfs-lab.js';
import { Predictions } from '../src/predictions.js';

const t = useTestLab({ clearFaults: true });

const cfg = () => t.sh('cat /etc/pve/storage.cfg');

const DESIRED = {
  prune: true,
  storages: [
    {
      id: 'backup',
      type: 'dir',
      path: '/tank/backup',
      content: ['backup', 'iso'],
      'prune-backups': { 'keep-last': 3 },
    },
    { id: 'tank-ct', type: 'zfspool', pool: 'tank', content: 'rootdir,images', sparse: true },
  ],
};

test('fresh host: check predicts exactly the first run and changes nothing; second run is ok', async () => {
  await t.sh('pvesm add dir stale --path /srv/stale --content iso'); // a leftover of a failed earlier attempt
  const before = await t.snapshot();
  const check = await t.run(pvesm, DESIRED, { check: true, diff: true });
  assert.equal(check.failed, undefined, String(check.msg));
  assert.equal(check.changed, true);
  assert.equal(await t.snapshot(), before, 'check mode left the host byte-identical');
  assert.deepEqual(check.added, ['backup', 'tank-ct']);
  assert.deepEqual(check.removed, ['stale']);
  const diff = check.diff as { before: string; after: string };
  assert.match(diff.before, /dir: stale\n/);
  assert.doesNotMatch(diff.after, /stale/);
  assert.match(diff.after, /dir: backup\n\tpath \/tank\/backup\n\tcontent backup,iso\n\tprune-backups keep-last=3\n/);

  const real = await t.run(pvesm, DESIRED);
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(check));
  const text = await cfg();
  assert.match(text, /^dir: local\n/);
  assert.match(text, /\nzfspool: tank-ct\n\tpool tank\n/);
  assert.doesNotMatch(text, /stale/);
  assert.match(await t.sh('pvesm status'), /backup +dir +active/);

  const again = await t.run(pvesm, DESIRED);
  assert.equal(again.changed, false, String(again.msg));
  assert.equal(again.failed, undefined);
  assert.deepEqual(again.added, []);
});

test('set only what differs: content compared as a set, booleans as 0/1, null deletes', async () => {
  await t.sh('pvesm add dir media --path /tank/media --content iso,backup --shared 1');
  const same = await t.run(pvesm, {
    id: 'media',
    type: 'dir',
    path: '/tank/media/',
    content: ['backup', 'iso'],
    shared: true,
  });
  assert.equal(same.changed, false, String(same.msg));
  const n = t.commands.length;
  const r = await t.run(
    pvesm,
    { id: 'media', type: 'dir', path: '/tank/media', content: 'backup,iso,vztmpl', shared: null, disable: true },
    { diff: true },
  );
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(r.changed, true);
  assert.deepEqual(r.updated, ['media']);
  const sent = t.commands.slice(n);
  assert.ok(
    sent.some((c) => c.includes('pvesm set media --content backup,iso,vztmpl --disable 1 --delete shared')),
    sent.join('\n'),
  );
  assert.match(await cfg(), /dir: media\n\tdisable\n\tpath \/tank\/media\n\tcontent backup,iso,vztmpl\n/);
  // facts, apply, verify: three round trips
  assert.equal(sent.length, 3, sent.join('\n'));
});

test('fixed-key drift fails naming key, current and wanted; recreate fixes it', async () => {
  await t.sh('pvesm add dir media --path /tank/media');
  const before = await cfg();
  const r = await t.run(pvesm, { id: 'media', type: 'dir', path: '/tank/media2' });
  assert.equal(r.failed, true);
  assert.match(
    String(r.msg),
    /storage 'media': fixed key path is '\/tank\/media' on the host, wanted '\/tank\/media2'.*recreate: true/,
  );
  assert.equal(await cfg(), before);
  const fixed = await t.run(pvesm, { id: 'media', type: 'dir', path: '/tank/media2', recreate: true });
  assert.equal(fixed.failed, undefined, String(fixed.msg));
  assert.match(await cfg(), /dir: media\n\tpath \/tank\/media2\n/);
  assert.equal((await t.run(pvesm, { id: 'media', type: 'dir', path: '/tank/media2' })).changed, false);
});

test('storage id taken by another type fails clearly and changes nothing', async () => {
  const before = await cfg();
  const r = await t.run(pvesm, { id: 'local', type: 'zfspool', pool: 'tank' });
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /storage ID 'local' is already defined as type dir, wanted zfspool/);
  assert.equal(await cfg(), before);
});

test("prune never removes local; absent removes; a missing zfs pool is pvesm's error", async () => {
  const r = await t.run(pvesm, { storages: [], prune: true });
  assert.equal(r.changed, false);
  assert.match(await cfg(), /dir: local/);
  await t.sh('pvesm add dir old --path /srv/old');
  const gone = await t.run(pvesm, { id: 'old', state: 'absent' });
  assert.equal(gone.changed, true);
  assert.deepEqual(gone.removed, ['old']);
  assert.doesNotMatch(await cfg(), /old/);
  const noPool = await t.run(pvesm, { id: 'nopool', type: 'zfspool', pool: 'tank/missing' });
  assert.equal(noPool.failed, true);
  assert.match(
    String(noPool.msg),
    /create storage failed: zfs error: cannot open 'tank\/missing': dataset does not exist/,
  );
});

test('check mode carries state: a zfspool on a dataset an earlier task would create', async () => {
  const predicted = new Predictions();
  const before = await t.snapshot();
  const ds = await t.run(zfsDataset, { name: 'tank/ct' }, { check: true, predicted });
  assert.equal(ds.changed, true);
  const first = await t.run(pvesm, { id: 'tank-ct', type: 'zfspool', pool: 'tank/ct' }, { check: true, predicted });
  assert.deepEqual(first.added, ['tank-ct']);
  const second = await t.run(
    pvesm,
    { id: 'tank-ct', type: 'zfspool', pool: 'tank/ct', content: 'images,rootdir' },
    { check: true, predicted },
  );
  assert.equal(second.changed, false, 'sees the storage the first task would add');
  assert.equal(await t.snapshot(), before);
});

test('hostile values stay literal: quotes, $(...), spaces; newlines are refused', async () => {
  const marker = `/tmp/phx-pwned-${process.pid}`;
  const hostile = `/mnt/it's "ours"  $(touch ${marker}) \`touch ${marker}\`; echo x`;
  // disabled: pvesm add activates (and checks is_mountpoint) only enabled storages (API2/Storage/Config.pm create)
  const dir = { id: 'odd', type: 'dir', path: '/srv/with space', is_mountpoint: hostile, disable: true };
  const r = await t.run(pvesm, dir);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.ok((await cfg()).includes(`dir: odd\n\tdisable\n\tpath /srv/with space\n\tis_mountpoint ${hostile}\n`));
  assert.equal((await t.exec(`test -e ${marker}`)).rc, 1, 'nothing was executed');
  assert.equal((await t.run(pvesm, dir)).changed, false);
  assert.throws(
    () => pvesm.args.parse({ id: 'odd', type: 'dir', path: '/x', is_mountpoint: 'a\nb' }),
    /is_mountpoint must not contain a newline/,
  );
});

test('nfs storage: NFS not online → waits nfs_timeout, fails with the last probe, writes nothing', async () => {
  await serveNfs(t, '/tank/nfs', { start: false });
  const before = await cfg();
  const t0 = Date.now();
  const r = await t.run(pvesm, {
    id: 'nas',
    type: 'nfs',
    server: '127.0.0.1',
    export: '/tank/nfs',
    options: 'vers=4.2',
    nfs_timeout: 2,
  });
  assert.ok(Date.now() - t0 < 10000);
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /storage 'nas': NFS export 127\.0\.0\.1:\/tank\/nfs not ready after [\d.]+ s/);
  // options vers=4.2: PVE's check is rpcinfo, then a TCP probe, never showmount (NFSPlugin.pm check_connection)
  assert.doesNotMatch(String(r.msg), /showmount/);
  assert.match(String(r.msg), /rpcinfo -T tcp 127\.0\.0\.1 nfs 4: rc 1/);
  assert.match(String(r.msg), /TCP 127\.0\.0\.1:2049: rc /);
  assert.equal(await cfg(), before);
  // no vers=4 in options: PVE's check is showmount's exit status only
  const v3 = await t.run(pvesm, { id: 'nas', type: 'nfs', server: '127.0.0.1', export: '/tank/nfs', nfs_timeout: 0 });
  assert.equal(v3.failed, true);
  assert.match(String(v3.msg), /showmount -e 127\.0\.0\.1: failed \(rc 1\): clnt_create: RPC: Program not registered/);
  assert.doesNotMatch(String(v3.msg), /rpcinfo/);
  assert.equal(await cfg(), before);
});

test('nfs storage: a server that answers late (nfsDelaySeconds) is waited for, then added', async () => {
  await t.lab.setFaults(t.host, { nfsDelaySeconds: 3 });
  await serveNfs(t, '/tank/nfs');
  const t0 = Date.now();
  const r = await t.run(pvesm, {
    id: 'nas',
    type: 'nfs',
    server: '127.0.0.1',
    export: '/tank/nfs',
    content: ['images', 'backup'],
    options: 'vers=4.2',
  });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.ok(Date.now() - t0 >= 2000, 'it waited');
  assert.deepEqual(r.added, ['nas']);
  assert.match(
    await cfg(),
    /nfs: nas\n\texport \/tank\/nfs\n\tpath \/mnt\/pve\/nas\n\tserver 127\.0\.0\.1\n\tcontent images,backup\n\toptions vers=4\.2\n/,
  );
  const again = await t.run(pvesm, {
    id: 'nas',
    type: 'nfs',
    server: '127.0.0.1',
    export: '/tank/nfs/',
    content: 'backup,images',
    options: 'vers=4.2',
  });
  assert.equal(again.changed, false, String(again.msg));
});

// pve-storage src/PVE/API2/Storage/Config.pm `delete` refuses only a storage that is the base of another
// (storage_is_used): guests and volumes are the module's to check before prune removes a definition
test('prune keeps a storage a guest config of the cluster references or that holds volumes, and says so', async () => {
  const node = (await t.sh('basename "$(readlink /etc/pve/local)"')).trim();
  await t.sh(
    [
      'pvesm add dir ctstore --path /srv/ctstore --content rootdir,images',
      'pvesm add dir vmstore --path /srv/vmstore --content images',
      'pvesm add dir vols --path /srv/vols --content images,backup',
      'pvesm add dir stale --path /srv/stale --content iso',
      // a CT on this node (the mount point on vmstore is only in a snapshot: still in use)
      `mkdir -p /etc/pve/nodes/${node}/lxc /etc/pve/nodes/pve-other/qemu-server`,
      `printf 'arch: amd64\\nmp0: /tank/media,mp=/media\\nrootfs: ctstore:105/subvol-105-disk-0.subvol,size=8G\\n\\n[before]\\nmp1: vmstore:105/vm-105-disk-1.raw,mp=/data\\n' > /etc/pve/nodes/${node}/lxc/105.conf`,
      // a VM on another node of the cluster (pmxcfs shows every node's configs)
      `printf 'boot: order=scsi0\\nide2: none,media=cdrom\\nscsi0: file=ctstore:vm-200-disk-0,size=32G\\n' > /etc/pve/nodes/pve-other/qemu-server/200.conf`,
      // a volume no guest references any more (a leftover disk, a backup)
      'mkdir -p /srv/vols/images/300 && : > /srv/vols/images/300/vm-300-disk-0.qcow2',
    ].join(' && '),
  );
  const list = { storages: [], prune: true };
  const check = await t.run(pvesm, list, { check: true });
  const r = await t.run(pvesm, list);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(comparable(r), comparable(check));
  assert.deepEqual(r.removed, ['stale']);
  assert.deepEqual(r.kept, ['local', 'ctstore', 'vmstore', 'vols']);
  assert.deepEqual(r.in_use, {
    ctstore: `CT 105 on ${node} (rootfs); VM 200 on pve-other (scsi0)`,
    vmstore: `CT 105 on ${node} (mp1)`,
    vols: '1 volume on it (pvesm list)',
  });
  assert.match(String(r.msg), /^removed stale; kept ctstore although not listed: in use \(CT 105 on /);
  const text = await cfg();
  for (const id of ['ctstore', 'vmstore', 'vols']) assert.match(text, new RegExp(`dir: ${id}\\n`));
  assert.doesNotMatch(text, /stale/);

  const again = await t.run(pvesm, list);
  assert.equal(again.changed, false, String(again.msg));
  assert.deepEqual(again.in_use, r.in_use);

  // listed absent, a storage in use still goes: that is the user's explicit word
  const gone = await t.run(pvesm, { storages: [{ id: 'vols', state: 'absent' }], prune: true });
  assert.deepEqual(gone.removed, ['vols']);
});

// pve-storage src/PVE/Storage/NFSPlugin.pm check_connection: vers=4 → rpcinfo/TCP only
test('nfs storage on an NFSv4-only server (showmount fails): added with vers=4, a subdirectory export', async () => {
  await t.sh("printf '[nfsd]\\nvers3=n\\n' > /etc/nfs.conf");
  await serveNfs(t, '/tank/nfs');
  await t.sh('mkdir -p /tank/nfs/pve');
  assert.notEqual((await t.exec('showmount -e 127.0.0.1')).rc, 0, 'no mountd on this server');
  const v4 = { id: 'nas', type: 'nfs', server: '127.0.0.1', export: '/tank/nfs/pve', options: 'vers=4.2' };
  const r = await t.run(pvesm, v4);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(r.added, ['nas']);
  assert.match(await t.sh('pvesm status'), /nas +nfs +active/);
  assert.equal((await t.run(pvesm, v4)).changed, false);
  // without vers=4 PVE asks showmount, which this server cannot answer: the wait says why
  const v3 = await t.run(pvesm, { ...v4, id: 'nas3', options: undefined, nfs_timeout: 1 });
  assert.equal(v3.failed, true);
  assert.match(String(v3.msg), /showmount -e 127\.0\.0\.1: failed \(rc 1\)/);
});

// pve-storage src/PVE/Storage/Plugin.pm parse_config: a storage.cfg without `local` still has it
test('storage.cfg without local: the module sees PVE’s local (set, not add)', async () => {
  await t.sh("printf 'dir: only\\n\\tpath /srv/only\\n\\tcontent iso\\n' > /etc/pve/storage.cfg");
  const r = await t.run(pvesm, { id: 'local', type: 'dir', path: '/var/lib/vz', content: 'iso,vztmpl,backup' });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.deepEqual(r.updated, ['local']);
  assert.match(await cfg(), /^dir: local\n\tpath \/var\/lib\/vz\n\tcontent iso,vztmpl,backup\n/);
  assert.equal(
    (await t.run(pvesm, { id: 'local', type: 'dir', path: '/var/lib/vz', content: 'iso,vztmpl,backup' })).changed,
    false,
  );
});
