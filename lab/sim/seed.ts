// The seeded state of a lab host, written into a directory that becomes the
// host's `/` for the simulated paths: pools tank and quickOS, storage `local`
// with the Debian 12 template, VM 1001 running with a guest agent and docker,
// pveproxy certificates (real PEM files made with openssl), NFS server stopped,
// no exports, no containers.
import { mkdirSync, writeFileSync, symlinkSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { seedPackages } from './apt.js';
import { HYPERVISOR_PACKAGES } from './apt-catalogue.js';
import { DEFAULT_PVE_VERSION, PVECFG_DIR, PVECFG_PM, pvecfgText } from './pvecfg.js';

export const TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst';
export const SEED_VMID = '1001';

/** Directories (paths on the host) that hold a lab host's state; the lab binds each one. */
export const HOST_DIRS = [
  '/tank',
  '/quickOS',
  '/var/lib/vz',
  '/var/lib/lxc',
  '/var/lib/phx-lab',
  '/var/lib/phx-play',
  '/root',
  '/srv',
  '/mnt',
  '/sys/class/net',
  '/var/lib/dpkg',
  '/var/lib/apt',
  '/var/cache/apt',
  // PVE::pvecfg (lab/sim/pvecfg.ts): the host's release, read by pveversion and src/proxmox/pve-version.ts
  PVECFG_DIR,
];

/** The host's network links as /sys/class/net shows them: `vmbr0`, the Linux bridge of a default
 *  Proxmox VE install (its `bridge/` directory marks a bridge; PVE reads `mtu` before plugging a guest in). */
export const SEED_BRIDGES = ['vmbr0'];

function w(root: string, p: string, content: string, mode = 0o644): void {
  const f = join(root, p);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, content, { mode });
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/** The cluster's CA (one per /etc/pve: a cluster's nodes share it) and the node's certificate signed by it. */
function makeCerts(pve: string, node: string): void {
  const nodeDir = join(pve, 'nodes', node);
  mkdirSync(join(pve, 'priv'), { recursive: true });
  const tmp = join(tmpdir(), `phx-lab-cert-${process.pid}-${node}`);
  mkdirSync(tmp, { recursive: true });
  const haveCa = existsSync(join(pve, 'pve-root-ca.pem')) && existsSync(join(pve, 'priv/pve-root-ca.key'));
  try {
    if (!haveCa)
      run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(pve, 'priv/pve-root-ca.key'),
        '-out',
        join(pve, 'pve-root-ca.pem'),
        '-days',
        '3650',
        '-subj',
        '/CN=Proxmox Virtual Environment/OU=phx-lab/O=PVE Cluster Manager CA',
      ]);
    run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(nodeDir, 'pve-ssl.key'),
      '-out',
      join(tmp, 'node.csr'),
      '-subj',
      `/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN=${node}.lab`,
    ]);
    writeFileSync(join(tmp, 'ext'), `subjectAltName=DNS:${node},DNS:${node}.lab,DNS:localhost,IP:127.0.0.1\n`);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      join(tmp, 'node.csr'),
      '-CA',
      join(pve, 'pve-root-ca.pem'),
      '-CAkey',
      join(pve, 'priv/pve-root-ca.key'),
      '-CAcreateserial',
      '-CAserial',
      join(tmp, 'serial'),
      '-out',
      join(nodeDir, 'pve-ssl.pem'),
      '-days',
      '730',
      '-extfile',
      join(tmp, 'ext'),
    ]);
    chmodSync(join(nodeDir, 'pve-ssl.key'), 0o640);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function makeTemplate(root: string): void {
  const cache = join(root, 'var/lib/vz/template/cache');
  mkdirSync(cache, { recursive: true });
  const src = join(tmpdir(), `phx-lab-tmpl-${process.pid}`);
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(
    join(src, 'etc/os-release'),
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
  );
  const r = spawnSync('tar', ['--zstd', '-cf', join(cache, TEMPLATE), '-C', src, '.']);
  if (r.status !== 0) writeFileSync(join(cache, TEMPLATE), 'phx-lab placeholder template\n');
  rmSync(src, { recursive: true, force: true });
}

function makeVm(root: string, pve: string, node: string, vmid: string): void {
  const mac = vmid.padStart(4, '0');
  w(
    pve,
    `nodes/${node}/qemu-server/${vmid}.conf`,
    [
      'agent: 1',
      'boot: order=scsi0',
      'cores: 2',
      'memory: 4096',
      'name: portainer',
      `net0: virtio=BC:24:11:${mac.slice(0, 2)}:${mac.slice(2, 4)}:01,bridge=vmbr0`,
      'ostype: l26',
      `scsi0: local:${vmid}/vm-${vmid}-disk-0.raw,size=32G`,
      'scsihw: virtio-scsi-single',
      '',
    ].join('\n'),
    0o640,
  );
  const vm = join(root, `var/lib/phx-lab/vm/${vmid}`);
  const rootfs = join(vm, 'rootfs');
  for (const d of [
    'etc',
    'usr',
    'dev',
    'proc',
    'tmp',
    'root',
    'opt',
    'srv',
    'run',
    'var/lib/docker',
    'var/log',
    'home',
  ])
    mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  for (const l of ['bin', 'lib', 'lib64', 'sbin'])
    if (!existsSync(join(rootfs, l))) symlinkSync(`usr/${l}`, join(rootfs, l));
  writeFileSync(join(rootfs, 'etc/hostname'), 'portainer\n');
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\ndocker:x:999:\nnogroup:x:65534:\n');
  writeFileSync(join(vm, 'state.json'), JSON.stringify({ running: true, startedAt: Date.now() }) + '\n');
  mkdirSync(join(rootfs, 'run/phx-lab/units'), { recursive: true });
  for (const u of ['docker', 'containerd', 'qemu-guest-agent', 'ssh', 'cron'])
    writeFileSync(join(rootfs, 'run/phx-lab/units', u), `${Date.now()}\n`);
}

/** /sys/class/net (bound over the real one in the host's namespace) and the /etc/network/interfaces
 *  a Proxmox VE installer writes: `lo`, the uplink `eno1`, and vmbr0 bridging it. */
function makeNetwork(root: string): void {
  const net = join(root, 'sys/class/net');
  for (const link of ['lo', 'eno1', ...SEED_BRIDGES]) {
    w(net, `${link}/mtu`, link === 'lo' ? '65536\n' : '1500\n');
    w(net, `${link}/operstate`, link === 'lo' ? 'unknown\n' : 'up\n');
  }
  for (const b of SEED_BRIDGES) mkdirSync(join(net, b, 'bridge'), { recursive: true });
  w(
    root,
    'etc/network/interfaces',
    [
      'auto lo',
      'iface lo inet loopback',
      '',
      'iface eno1 inet manual',
      '',
      'auto vmbr0',
      'iface vmbr0 inet static',
      '\taddress 127.0.0.1/8',
      '\tbridge-ports eno1',
      '\tbridge-stp off',
      '\tbridge-fd 0',
      '',
    ].join('\n'),
  );
}

/** A cluster member's seeding: the shared /etc/pve, and the id of its VM (ids are unique across a cluster). */
export interface ClusterSeed {
  pve: string;
  vmid: string;
}

/** Writes the seeded state of host `node` under `root` (removing what was there). In a cluster, only this
 *  node's nodes/<node>/ is (re)written in the shared /etc/pve; the cluster-wide files (storage.cfg, the CA)
 *  are written when missing and otherwise kept; the per-node links are the lab's (cluster.ts). */
export function seedHost(root: string, node: string, cluster?: ClusterSeed): void {
  const clusterPve = cluster?.pve;
  for (const d of ['etc', ...HOST_DIRS.map((p) => p.slice(1))]) rmSync(join(root, d), { recursive: true, force: true });
  for (const d of HOST_DIRS) mkdirSync(join(root, d), { recursive: true });
  w(root, 'etc/hostname', `${node}\n`);
  const pve = clusterPve ?? join(root, 'etc/pve');
  if (clusterPve) {
    mkdirSync(join(root, 'etc/pve'), { recursive: true }); // the mount point
    rmSync(join(pve, 'nodes', node), { recursive: true, force: true });
  }
  for (const d of ['lxc', 'qemu-server', 'priv']) mkdirSync(join(pve, 'nodes', node, d), { recursive: true });
  if (!clusterPve) {
    symlinkSync(`nodes/${node}`, join(pve, 'local'));
    symlinkSync(`nodes/${node}/lxc`, join(pve, 'lxc'));
    symlinkSync(`nodes/${node}/qemu-server`, join(pve, 'qemu-server'));
  }
  if (!existsSync(join(pve, 'storage.cfg')))
    w(
      pve,
      'storage.cfg',
      'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,rootdir,images\n\tprune-backups keep-all=1\n',
      0o640,
    );
  mkdirSync(join(root, 'etc/exports.d'), { recursive: true });
  makeNetwork(root);
  for (const d of ['template/iso', 'images', 'dump', 'private', 'snippets'])
    mkdirSync(join(root, 'var/lib/vz', d), { recursive: true });
  makeTemplate(root);
  w(root, PVECFG_PM.slice(1), pvecfgText(DEFAULT_PVE_VERSION));
  makeCerts(pve, node);
  makeVm(root, pve, node, cluster?.vmid ?? SEED_VMID);
  const now = Math.floor(Date.now() / 1000);
  w(
    root,
    'var/lib/phx-lab/zfs.json',
    JSON.stringify(
      {
        datasets: {
          tank: {
            type: 'filesystem',
            props: { compression: 'lz4', atime: 'off', xattr: 'sa', acltype: 'posix' },
            creation: now,
          },
          quickOS: { type: 'filesystem', props: { compression: 'lz4' }, creation: now },
        },
      },
      null,
      2,
    ) + '\n',
  );
  const active = { active: true, since: Date.now(), enabled: true };
  w(
    root,
    'var/lib/phx-lab/systemd.json',
    JSON.stringify(
      {
        rpcbind: active,
        pveproxy: active,
        pvedaemon: active,
        'pve-cluster': active,
        ssh: active,
        cron: active,
        'zfs-zed': active,
        'nfs-server': { active: false, since: 0, enabled: false },
      },
      null,
      2,
    ) + '\n',
  );
  w(root, 'var/lib/phx-lab/faults.json', '{}\n');
  // a node whose package lists are a day old (Ansible's cache_valid_time reads their mtime)
  seedPackages(root, HYPERVISOR_PACKAGES, true, new Date(Date.now() - 86_400_000));
  chmodSync(join(root, 'root'), 0o700);
}
