// The lab's cluster mode: three sshd hosts forming one Proxmox VE cluster that shares /etc/pve (pmxcfs).
// Each test that pins a real behaviour names the source it was read from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { useLabHost } from './harness/lab-fixture.js';
import { startLab } from '../lab/index.js';
import { hostVariables, loadInventory } from '../src/inventory/index.js';
import { seedHost } from '../lab/sim/seed.js';
import { SIM_MAIN, PACKAGE_ROOT } from '../lab/hostfs.js';

const fx = useLabHost('phx-lab-cluster-', undefined, { cluster: true });
const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';

async function on(host: string, command: string): Promise<{ rc: number; stdout: string; stderr: string }> {
  return fx.lab.exec(host, command);
}
async function ok(host: string, command: string): Promise<string> {
  const r = await on(host, command);
  assert.equal(r.rc, 0, `${host}: ${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('every node sees one /etc/pve with its own local, lxc and qemu-server links', async () => {
  assert.deepEqual(
    fx.lab.hosts.map((h) => h.name),
    ['pve1', 'pve2', 'pve3'],
  );
  assert.deepEqual(fx.lab.cluster?.nodes, ['pve1', 'pve2', 'pve3']);
  for (const node of ['pve1', 'pve2', 'pve3']) {
    assert.equal(
      await ok(node, 'hostname; readlink /etc/pve/local /etc/pve/lxc /etc/pve/qemu-server; ls /etc/pve/nodes'),
      `${node}\nnodes/${node}\nnodes/${node}/lxc\nnodes/${node}/qemu-server\npve1\npve2\npve3\n`,
    );
  }
  // a file written through one node's view is the other nodes' file too
  await ok('pve2', 'echo from-pve2 > /etc/pve/local/note.txt');
  assert.equal(await ok('pve3', 'cat /etc/pve/nodes/pve2/note.txt'), 'from-pve2\n');
  // one cluster CA; each node's certificate is signed by it
  await ok('pve3', 'openssl verify -CAfile /etc/pve/pve-root-ca.pem /etc/pve/local/pve-ssl.pem');
});

test('corosync.conf has the cluster in the layout PVE writes; pvecm status shows 3 nodes, quorate', async () => {
  // pve-cluster src/PVE/Corosync.pm write_conf: sorted sections, nodelist { node { name, nodeid, quorum_votes,
  // ring0_addr } }, totem with cluster_name and config_version; a copy in /etc/corosync on every node
  const conf = await ok('pve2', 'cat /etc/pve/corosync.conf');
  assert.equal(await ok('pve3', 'cat /etc/corosync/corosync.conf'), conf);
  assert.match(conf, /^logging \{\n {2}debug: off\n {2}to_syslog: yes\n\}\n\nnodelist \{\n {2}node \{\n/);
  assert.match(
    conf,
    /\n {2}node \{\n {4}name: pve2\n {4}nodeid: 2\n {4}quorum_votes: 1\n {4}ring0_addr: \S+\n {2}\}\n/,
  );
  assert.match(conf, /\nquorum \{\n {2}provider: corosync_votequorum\n\}\n\ntotem \{\n {2}cluster_name: phx-lab\n/);
  assert.match(conf, /\n {2}config_version: 3\n/);

  // pve-cluster src/PVE/CLI/pvecm.pm status: totem info, then corosync-quorumtool -siH
  // (corosync tools/corosync-quorumtool.c display_quorum_data / display_nodes_data)
  const st = await on('pve2', 'pvecm status');
  assert.equal(st.rc, 0, st.stderr);
  const text = st.stdout;
  assert.match(
    text,
    /^Cluster information\n-{19}\nName: {13}phx-lab\nConfig Version: {3}3\nTransport: {8}knet\nSecure auth: {6}on\n\n/,
  );
  assert.match(text, /\nQuorum information\n-{18}\nDate: {13}\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
  assert.match(text, /\nQuorum provider: {2}corosync_votequorum\nNodes: {12}3\nNode ID: {10}0x00000002\n/);
  assert.match(text, /\nQuorate: {10}Yes\n/);
  assert.match(text, /\nExpected votes: {3}3\nHighest expected: 3\nTotal votes: {6}3\nQuorum: {11}2 {2}\n/);
  assert.match(text, /\nFlags: {12}Quorate \n/);
  assert.match(text, /\nMembership information\n-{22}\n {4}Nodeid {6}Votes Name\n0x00000001 {10}1 \S+\n/);
  assert.match(text, /\n0x00000002 {10}1 \S+ \(local\)\n0x00000003 {10}1 \S+\n$/);

  // pvecm.pm nodes: corosync-quorumtool -l (decimal ids, node names)
  assert.equal(
    await ok('pve3', 'pvecm nodes'),
    '\nMembership information\n----------------------\n    Nodeid      Votes Name\n' +
      '         1          1 pve1\n         2          1 pve2\n         3          1 pve3 (local)\n',
  );
});

test('a storage added on one node is seen by the others; `nodes` limits where it is enabled', async () => {
  await ok('pve1', 'pvesm add dir backups --path /srv/backups --content backup');
  await ok('pve1', 'pvesm add dir only1 --path /srv/only1 --content images --nodes pve1');
  assert.equal(await ok('pve3', 'cat /etc/pve/storage.cfg'), await ok('pve1', 'cat /etc/pve/storage.cfg'));
  // pve-storage src/PVE/Storage.pm storage_info + API2/Storage/Status.pm index: a storage that
  // storage_check_enabled refuses on this node is listed as disabled (print_status in CLI/pvesm.pm) …
  const st = await ok('pve2', 'pvesm status');
  assert.match(st, /\nbackups +dir +active +\d+ +\d+ +\d+ +\d+\.\d\d%\n/, st);
  assert.match(st, /\nonly1 +dir +disabled +0 +0 +0 +N\/A\n/, st);
  assert.match(await ok('pve1', 'pvesm status'), /\nonly1 +dir +active /);
  // … and left out when a content type is asked for
  assert.doesNotMatch(await ok('pve2', 'pvesm status --content images'), /only1/);
  assert.match(await ok('pve1', 'pvesm status --content images'), /\nonly1 +dir +active /);
  // storage_info activated the dir storage on pve2 (its directories exist there now)
  assert.equal(await ok('pve2', 'test -d /srv/backups/dump && echo yes'), 'yes\n');
  // pve-container API2/LXC.pm create_vm → Storage.pm storage_check_enabled → storage_check_node
  const refused = await on('pve2', `pct create 150 ${TEMPLATE} --storage only1`);
  assert.equal(refused.rc, 255);
  assert.equal(refused.stderr, "storage 'only1' is not available on node 'pve2'\n");
});

test('CT ids are unique across the cluster; pct list shows only the local guests', async () => {
  await ok('pve1', `pct create 105 ${TEMPLATE} --hostname web`);
  // pve-container src/PVE/API2/LXC.pm create_vm → pve-cluster src/PVE/Cluster.pm check_vmid_unused
  const again = await on('pve2', `pct create 105 ${TEMPLATE}`);
  assert.equal(again.rc, 255);
  assert.equal(again.stderr, "CT 105 already exists on node 'pve1'\n");
  // the same check for a VM id: pve2 holds VM 1002 (the seeded VMs have one id per node)
  const vm = await on('pve3', `pct create 1002 ${TEMPLATE}`);
  assert.equal(vm.stderr, "VM 1002 already exists on node 'pve2'\n");
  assert.match(await ok('pve2', 'qm list'), /^ +1002 portainer /m);
  assert.doesNotMatch(await ok('pve2', 'qm list'), /1001|1003/);
  // pct list is the local node's containers; the config of pve1's CT is still visible from pve2
  assert.match(await ok('pve1', 'pct list'), /^105 +stopped +web/m);
  assert.equal(await ok('pve2', 'pct list'), '');
  assert.match(await ok('pve2', 'cat /etc/pve/nodes/pve1/lxc/105.conf'), /^hostname: web$/m);
  assert.equal(
    (await on('pve2', 'pct config 105')).stderr,
    "Configuration file 'nodes/pve2/lxc/105.conf' does not exist\n",
  );
});

test('three nodes writing at once lose nothing: storage.cfg and a contested CT id', async () => {
  const adds = ['pve1', 'pve2', 'pve3'].map((node) =>
    ok(
      node,
      [1, 2, 3, 4].map((i) => `pvesm add dir ${node}-s${i} --path /srv/${node}-s${i} --content iso`).join(' && '),
    ),
  );
  await Promise.all(adds);
  const cfg = await ok('pve2', 'cat /etc/pve/storage.cfg');
  for (const node of ['pve1', 'pve2', 'pve3'])
    for (const i of [1, 2, 3, 4]) assert.match(cfg, new RegExp(`^dir: ${node}-s${i}$`, 'm'), cfg);
  // the same new id on all three nodes at once: exactly one create wins, the others get the real message
  const results = await Promise.all(['pve1', 'pve2', 'pve3'].map((node) => on(node, `pct create 120 ${TEMPLATE}`)));
  const winners = results.filter((r) => r.rc === 0);
  assert.equal(winners.length, 1, results.map((r) => r.stderr).join(''));
  const owner = ['pve1', 'pve2', 'pve3'][results.findIndex((r) => r.rc === 0)];
  for (const r of results.filter((x) => x.rc !== 0))
    assert.match(r.stderr, new RegExp(`^(unable to create CT 120 - )?CT 120 already exists on node '${owner}'\\n$`));
});

test('a reset node is seeded again; the cluster-wide files and the other nodes stay', async () => {
  await ok('pve3', `pct create 130 ${TEMPLATE}`);
  const cfg = await ok('pve1', 'cat /etc/pve/storage.cfg');
  await fx.lab.reset('pve3');
  assert.equal(await ok('pve3', 'cat /etc/pve/storage.cfg'), cfg);
  assert.equal(await ok('pve3', 'pct list'), '');
  assert.match(await ok('pve3', 'readlink /etc/pve/local; cat /etc/corosync/corosync.conf'), /^nodes\/pve3\n/);
  assert.match(await ok('pve3', 'qm list'), /^ +1003 portainer /m);
  assert.match(await ok('pve3', 'cat /etc/pve/nodes/pve1/lxc/105.conf'), /^hostname: web$/m);
});

test('the inventory has the cluster in group lab_cluster, and group lab as before; lab status shows it', () => {
  const inv = readFileSync(fx.lab.inventoryFile, 'utf8');
  assert.match(inv, /^ {4}lab:\n {6}hosts:\n {8}pve1:\n/m);
  assert.match(inv, /\n {4}lab_cluster:\n {6}hosts:\n {8}pve1: \{\}\n {8}pve2: \{\}\n {8}pve3: \{\}\n/);
  const cli = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/lab/cli.js'), 'status', '--dir', fx.dir], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /^pve1\t127\.0\.0\.1:\d+\tpid \d+\tup\n/);
  assert.match(cli.stdout, /\ncluster phx-lab: pve1, pve2, pve3 \(3\/3 online, quorate\); shared \/etc\/pve: \S+\n$/);
});

test('the inventory gives each member its own guest ids (the VM seeded on it, its container ids) in phoenix_hypervisors', async () => {
  // with the repository's lab site values beside it, as the Phoenix tests use it
  const dir = mkdtempSync(join(tmpdir(), 'phx-lab-cluster-inv-'));
  try {
    cpSync(fx.lab.inventoryFile, join(dir, 'hosts.yml'));
    cpSync(join(PACKAGE_ROOT, 'inventory/group_vars'), join(dir, 'group_vars'), { recursive: true });
    const inv = loadInventory([join(dir, 'hosts.yml')]);
    const seen = new Map<number, string>();
    for (const h of ['pve1', 'pve2', 'pve3']) {
      const v = hostVariables(inv, h, { playbookDir: join(PACKAGE_ROOT, 'playbooks') });
      assert.ok((v.group_names as string[]).includes('phoenix_hypervisors'), h);
      // the VM the lab seeded on this member (1001, 1002, 1003) is the one its playbooks use
      assert.match(await ok(h, 'qm list'), new RegExp(`^ +${String(v.portainer_vmid)} portainer `, 'm'));
      const ids = [v.portainer_vmid, ...Object.values(v.phoenix_ctids as Record<string, number>)] as number[];
      for (const id of ids) {
        assert.ok(!seen.has(id), `${h} reuses id ${id} of ${seen.get(id)}`);
        seen.set(id, h);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lab keeps its mode: a cluster lab does not reopen as standalone', async () => {
  await assert.rejects(startLab({ dir: fx.dir, hosts: 3, cluster: false }), /is a cluster; a lab keeps its mode/);
});

test('a standalone node has no cluster: pvecm refuses like check_conf_exists', () => {
  // pve-cluster src/PVE/Corosync.pm check_conf_exists, called by pvecm.pm status and nodes
  const root = mkdtempSync(join(tmpdir(), 'phx-lab-standalone-'));
  try {
    seedHost(root, 'pve1');
    const r = spawnSync(process.execPath, [SIM_MAIN, 'pvecm', 'status'], {
      env: { ...process.env, PHX_LAB_ROOT: root },
      encoding: 'utf8',
    });
    assert.equal(r.status, 255);
    assert.equal(
      r.stderr,
      "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?\n",
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// last: it takes two nodes down
test('without quorum pvecm status says so (exit 2) and pct create refuses', async () => {
  await fx.lab.setFaults('pve2', { refuseConnections: true });
  const two = await on('pve1', 'pvecm status');
  assert.equal(two.rc, 0);
  assert.match(two.stdout, /\nNodes: {12}2\n/);
  assert.match(two.stdout, /\nTotal votes: {6}2\nQuorum: {11}2 {2}\n/);
  await fx.lab.setFaults('pve3', { refuseConnections: true });
  // corosync-quorumtool.c show_status: EXIT_NOT_QUORATE (2); display_quorum_data: "Activity blocked"
  const one = await on('pve1', 'pvecm status');
  assert.equal(one.rc, 2);
  assert.match(one.stdout, /\nQuorate: {10}No\n/);
  assert.match(one.stdout, /\nTotal votes: {6}1\nQuorum: {11}2 Activity blocked\nFlags: {12}\n/);
  assert.match(one.stdout, /\n {4}Nodeid {6}Votes Name\n0x00000001 {10}1 \S+ \(local\)\n$/);
  // pve-container API2/LXC.pm create_vm → pve-cluster src/PVE/Cluster.pm check_cfs_quorum
  const create = await on('pve1', `pct create 140 ${TEMPLATE}`);
  assert.equal(create.rc, 255);
  assert.equal(create.stderr, 'cluster not ready - no quorum?\n');
  // pve-storage API2/Storage/Config.pm create → Storage.pm lock_storage_config → pve-cluster Cluster.pm
  // cfs_lock_file: the lock is refused, the error becomes "no quorum!"
  const add = await on('pve1', 'pvesm add dir late --path /srv/late');
  assert.equal(add.rc, 255);
  assert.equal(add.stderr, "create storage failed: cfs-lock 'file-storage_cfg' error: no quorum!\n");
  assert.doesNotMatch(await ok('pve1', 'cat /etc/pve/storage.cfg'), /late/);
  await fx.lab.setFaults('pve2', {});
  await fx.lab.setFaults('pve3', {});
  assert.match(await ok('pve1', 'pvecm status'), /\nQuorate: {10}Yes\n/);
});
