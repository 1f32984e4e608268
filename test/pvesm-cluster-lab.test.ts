// pvesm run against every node of a 3-node lab cluster at once (one shared /etc/pve): each storage is
// defined once, exactly one member makes each change and the others find it made, prune keeps what is
// restricted to other nodes, --check predicts the same, the second run is changed=0.
// The race it prevents is real: pve-storage src/PVE/API2/Storage/Config.pm create takes
// cfs_lock_storage and dies "storage ID 'x' already defined" for the losers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLabHost } from './harness/lab-fixture.js';
import { runCli } from './helpers/cli.js';

const fx = useLabHost('phx-pvesm-cluster-', undefined, { cluster: true });

const PLAYBOOK = `- hosts: lab_cluster
  gather_facts: false
  tasks:
    - name: datasets (each node's own pool)
      zfs_dataset: { name: "{{ item }}" }
      loop: [tank/ct, tank/backup]
    - name: storages
      pvesm:
        storages:
          - { id: tank-ct, type: zfspool, pool: tank/ct, content: [rootdir, images], sparse: true }
          - { id: tank-backup, type: dir, path: /tank/backup, content: [backup] }
        prune: true
`;

async function run(extra: string[] = []) {
  const pb = join(fx.dir, 'storage.yml');
  writeFileSync(pb, PLAYBOOK);
  const r = await runCli(['-i', fx.lab.inventoryFile, pb, ...extra]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** host → changed count from the recap */
function recap(out: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of out.matchAll(/^(pve\d)\s*:.*?changed=(\d+).*failed=(\d+)/gm)) {
    assert.equal(m[3], '0', out);
    counts[m[1]] = Number(m[2]);
  }
  return counts;
}

const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

test('all three members at once: one adds, the others find it made; --check predicts the same', async () => {
  // left by an earlier run: an unrestricted leftover, and pve2's and pve3's own storages
  await fx.lab.exec(
    'pve1',
    `cat >> /etc/pve/storage.cfg <<'X'

dir: leftover
\tpath /srv/leftover
\tcontent backup

dir: pve2-and-pve3
\tpath /srv/shared23
\tcontent backup
\tnodes pve2,pve3
X`,
  );
  const before = (await fx.lab.exec('pve2', 'cat /etc/pve/storage.cfg')).stdout;

  const check = recap(await run(['--check']));
  assert.deepEqual(Object.keys(check).sort(), ['pve1', 'pve2', 'pve3']);
  // the datasets: one change per node; the storages: one member predicts, the others see it predicted
  assert.equal(sum(check), 4, 'in check mode one member predicts the change, the others see it predicted');
  assert.equal((await fx.lab.exec('pve3', 'cat /etc/pve/storage.cfg')).stdout, before, '--check changed nothing');

  const first = recap(await run());
  assert.equal(sum(first), 4, 'each node made its datasets, one member the storage changes');
  const cfg = (await fx.lab.exec('pve3', 'cat /etc/pve/storage.cfg')).stdout;
  assert.equal(cfg.match(/^zfspool: tank-ct$/gm)?.length, 1, cfg);
  assert.equal(cfg.match(/^dir: tank-backup$/gm)?.length, 1, cfg);
  assert.doesNotMatch(cfg, /leftover/);
  // restricted to pve2 and pve3: never one member's alone to prune
  assert.match(cfg, /^dir: pve2-and-pve3\n\tpath \/srv\/shared23\n\tcontent backup\n\tnodes pve2,pve3$/m);
  // every member sees the storages (pvesm status reads the one storage.cfg)
  for (const node of ['pve1', 'pve2', 'pve3']) {
    const st = await fx.lab.exec(node, 'pvesm status');
    assert.match(st.stdout, /^tank-ct\s+zfspool\s+active/m, `${node}: ${st.stdout}${st.stderr}`);
    assert.match(st.stdout, /^tank-backup\s+dir\s+active/m, `${node}: ${st.stdout}`);
  }

  assert.deepEqual(recap(await run()), { pve1: 0, pve2: 0, pve3: 0 });
});
