// Cluster membership as PVE reads it, the shared scope cluster-wide modules take turns in,
// and pvesm's prune on a cluster member. No host needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pvesm, { planPvesm, type PvesmFacts } from '../modules/pvesm.js';
import { clusterFromCorosync, clusterScopeKey, nodeName, parseCorosyncConf } from '../src/proxmox/cluster.js';
import { parseStorageCfg } from '../src/proxmox/storage-cfg.js';
import { SharedScopes } from '../src/shared-scope.js';
import { Predictions, storageSlot } from '../src/predictions.js';

// As pve-cluster src/PVE/Corosync.pm write_conf lays it out (create_conf + two `pvecm add`s)
const COROSYNC_CONF = `logging {
  debug: off
  to_syslog: yes
}

nodelist {
  node {
    name: pve-b
    nodeid: 2
    quorum_votes: 1
    ring0_addr: 10.0.0.12
  }
  node {
    name: pve-a
    nodeid: 1
    quorum_votes: 1
    ring0_addr: 10.0.0.11
  }
  node {
    nodeid: 3
    quorum_votes: 1
    ring0_addr: 10.0.0.13
  }
}

quorum {
  provider: corosync_votequorum
}

totem {
  cluster_name: prod # the name pvecm create was given
  config_version: 3
  interface {
    linknumber: 0
  }
  ip_version: ipv4-6
  link_mode: passive
  secauth: on
  version: 2
}
`;

test('corosync.conf read as parse_conf does (pve-cluster src/PVE/Corosync.pm): nodes by name, else ring0_addr', () => {
  const c = clusterFromCorosync(COROSYNC_CONF);
  // parse_conf keys nodelist.node by `name // ring0_addr`; comments are dropped
  assert.deepEqual(c, { name: 'prod', nodes: ['10.0.0.13', 'pve-a', 'pve-b'] });
  assert.equal(clusterScopeKey({ node: 'pve-a', cluster: c }), 'pve-cluster prod [10.0.0.13 pve-a pve-b]');
  assert.equal(clusterScopeKey({ node: 'pve-a', cluster: null }), undefined);
  // parse_conf dies on these
  assert.throws(() => parseCorosyncConf('totem {\n cluster_name prod\n}\n'), /missing ':' after key 'cluster_name'/);
  assert.throws(() => parseCorosyncConf('totem {\n}\n}\n'), /unexpected '}'/);
  assert.throws(() => parseCorosyncConf('totem {\n}\ntotem {\n}\n'), /section 'totem' already exists/);
  assert.throws(() => parseCorosyncConf('totem {\n version:'), /no value for 'version'/);
  // a file naming no cluster is no cluster
  assert.equal(clusterFromCorosync('logging {\n debug: off\n}\n'), undefined);
});

test('the node name is uname -n up to the first dot (PVE::INotify::nodename)', () => {
  assert.equal(nodeName('pve-a.example.com\n'), 'pve-a');
  assert.equal(nodeName('pve1\n'), 'pve1');
});

test('shared scope: holders of one key run one after another; other keys do not wait', async () => {
  const scopes = new SharedScopes();
  const signal = new AbortController().signal;
  const log: string[] = [];
  let releaseFirst!: () => void;
  const firstHolds = new Promise<void>((r) => (releaseFirst = r));
  const a = scopes.exclusive('c1', signal, async () => {
    log.push('a start');
    await firstHolds;
    log.push('a end');
  });
  const b = scopes.exclusive('c1', signal, () => {
    log.push('b');
    return Promise.resolve();
  });
  const other = scopes.exclusive('c2', signal, () => {
    log.push('other');
    return Promise.resolve();
  });
  await other;
  assert.deepEqual(log, ['a start', 'other']);
  releaseFirst();
  await Promise.all([a, b]);
  assert.deepEqual(log, ['a start', 'other', 'a end', 'b']);
  // a failing holder does not block the next
  await assert.rejects(
    scopes.exclusive('c1', signal, () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(await scopes.exclusive('c1', signal, () => Promise.resolve(7)), 7);
  // predictions are one object per key
  assert.equal(scopes.predictionsOf('c1'), scopes.predictionsOf('c1'));
  assert.notEqual(scopes.predictionsOf('c1'), scopes.predictionsOf('c2'));
});

test('shared scope: a waiter gives up when its task is aborted (timeout, Ctrl-C)', async () => {
  const scopes = new SharedScopes();
  let release!: () => void;
  const held = scopes.exclusive('c', new AbortController().signal, () => new Promise<void>((r) => (release = r)));
  const ac = new AbortController();
  let ran = false;
  const waiting = scopes.exclusive('c', ac.signal, () => {
    ran = true;
    return Promise.resolve();
  });
  ac.abort(new Error('task timed out'));
  await assert.rejects(waiting, /task timed out/);
  release();
  await held;
  assert.equal(ran, false);
});

const CLUSTER_CFG = `dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

dir: stale
\tpath /srv/stale
\tcontent backup

dir: pve2-only
\tpath /srv/pve2
\tcontent backup
\tnodes pve2

dir: pve1-and-pve2
\tpath /srv/both
\tcontent backup
\tnodes pve1,pve2

dir: pve1-only
\tpath /srv/pve1
\tcontent backup
\tnodes pve1
`;

const member = (node: string): PvesmFacts => ({
  storages: parseStorageCfg(CLUSTER_CFG),
  membership: { node, cluster: { name: 'prod', nodes: ['pve1', 'pve2', 'pve3'] } },
});

test('prune on a cluster member never removes a storage restricted to other nodes too', () => {
  const args = pvesm.args.parse({ storages: [{ id: 'tank-ct', type: 'zfspool', pool: 'tank/ct' }], prune: true });
  const p1 = planPvesm(member('pve1'), args);
  const removed = (p: ReturnType<typeof planPvesm>) => (p.result as { removed: string[] }).removed;
  // pve1 prunes the unrestricted stale one and its own one; pve2's and the shared one stay
  assert.deepEqual(removed(p1), ['stale', 'pve1-only']);
  assert.deepEqual((p1.result as { other_nodes: Record<string, string> }).other_nodes, {
    'pve2-only': 'node pve2',
    'pve1-and-pve2': 'node pve2',
  });
  assert.match(p1.msg!, /kept pve2-only although not listed: restricted to node pve2, not this node's alone/);
  // on pve3 none of the restricted ones is its own
  assert.deepEqual(removed(planPvesm(member('pve3'), args)), ['stale']);
  // a standalone node has no other nodes: its leftovers with `nodes` are its own to prune
  assert.deepEqual(removed(planPvesm({ storages: parseStorageCfg(CLUSTER_CFG) }, args)), [
    'stale',
    'pve2-only',
    'pve1-and-pve2',
    'pve1-only',
  ]);
});

test("check mode on a cluster: the second member overlays the first one's predictions and plans nothing", () => {
  const args = pvesm.args.parse({ storages: [{ id: 'tank-ct', type: 'zfspool', pool: 'tank/ct' }] });
  const shared = new Predictions();
  const first = planPvesm(member('pve1'), args);
  assert.equal(first.changes.length, 1);
  for (const w of first.predict ?? []) w.apply(shared);
  assert.ok(storageSlot.get(shared, 'tank-ct'));
  const second = planPvesm(pvesm.overlay!(member('pve2'), args, shared), args);
  assert.equal(second.changes.length, 0);
  assert.match(second.msg!, /as wanted \(after the changes earlier tasks would make\)/);
});
