// What uses a storage, before pvesm prune removes it: guest config volume keys
// (pve-container src/PVE/LXC/Config.pm rootfs/mpN/unusedN; qemu-server drive keys)
// and `pvesm list`, read from one report whose markers are unique per run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestStorageRefs, inUseReason, parseStorageUse, storageUseArgv } from '../src/proxmox/storage-use.js';

test('guest configs: volume keys name their storage; bind mounts, devices and cdroms do not', () => {
  const ct = guestStorageRefs(
    'lxc',
    [
      'arch: amd64',
      'mp0: /tank/media,mp=/media',
      'mp1: /dev/sdb1,mp=/dev',
      'mp2: volume=nas:105/vm-105-disk-2.raw,mp=/x',
      'rootfs: local-zfs:subvol-105-disk-0,size=8G',
      'unused0: tank-ct:subvol-105-disk-3',
      'description: rootfs: other:x',
      '',
      '[snap]',
      'mp3: old-store:subvol-105-disk-4,mp=/old',
    ].join('\n'),
  );
  assert.deepEqual(Object.fromEntries(ct), {
    nas: ['mp2'],
    'local-zfs': ['rootfs'],
    'tank-ct': ['unused0'],
    'old-store': ['mp3'],
  });
  const vm = guestStorageRefs(
    'qemu-server',
    [
      'ide2: none,media=cdrom',
      'ide0: local:iso/debian.iso,media=cdrom',
      'scsi0: file=local-lvm:vm-200-disk-0,size=32G',
      'efidisk0: local-lvm:vm-200-disk-1,efitype=4m',
      'tpmstate0: tpmstore:vm-200-disk-2,version=v2.0',
      'net0: virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0',
      'rootfs: nope:x',
    ].join('\n'),
  );
  assert.deepEqual(Object.fromEntries(vm), {
    local: ['ide0'],
    'local-lvm': ['scsi0', 'efidisk0'],
    tpmstore: ['tpmstate0'],
  });
});

test('the report: configs per node, pvesm list counts, a failed list, a forged marker is data', () => {
  const { argv, marker } = storageUseArgv(['nas', 'vols', 'gone']);
  assert.deepEqual(argv.slice(3), ['phx-storage-use', marker, 'nas', 'vols', 'gone']);
  assert.notEqual(storageUseArgv([]).marker, marker, 'a new marker per run');
  const report = [
    `${marker} file /etc/pve/nodes/pve1/lxc/105.conf`,
    'rootfs: nas:105/subvol-105-disk-0.subvol,size=8G',
    'description: @@phx-use-0000@@ list 0 vols',
    `${marker} file /etc/pve/nodes/pve2/qemu-server/200.conf`,
    'scsi0: nas:200/vm-200-disk-0.raw',
    `${marker} list 0 nas`,
    'Volid Format  Type      Size VMID',
    'nas:105/subvol-105-disk-0.subvol subvol rootdir 1 105',
    `${marker} list 0 vols`,
    'Volid Format  Type      Size VMID',
    'vols:backup/vzdump-lxc-1-x.tar.zst tzst backup 1 1',
    'vols:300/vm-300-disk-0.qcow2 qcow2 images 1 300',
    `${marker} list 2 gone`,
    "storage 'gone' is not online",
    `${marker} end`,
  ].join('\n');
  const use = parseStorageUse(report, marker, ['nas', 'vols', 'gone']);
  assert.deepEqual(use.get('nas'), { guests: ['CT 105 on pve1 (rootfs)', 'VM 200 on pve2 (scsi0)'], volumes: 1 });
  assert.equal(inUseReason(use.get('vols')), '2 volumes on it (pvesm list)');
  assert.equal(inUseReason(use.get('gone')), "its volumes could not be listed: storage 'gone' is not online");
  assert.equal(inUseReason({ guests: [], volumes: 0 }), undefined);
  assert.throws(() => parseStorageUse(report.replace(`${marker} end`, ''), marker, ['nas']), /incomplete/);
});
