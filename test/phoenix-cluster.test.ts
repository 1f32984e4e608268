// site.yml against all three members of a lab cluster at once (one /etc/pve, pmxcfs-like): every
// member gets its own containers and VM (ids unique cluster-wide, from the generated inventory), the
// cluster-wide storage definitions are made once (by one member: pvesm's sharedScope), the run
// converges, and the second run is changed=0. Without the turns, two members fail with
// "storage ID 'tank-ct' already defined" (pve-storage API2/Storage/Config.pm create, cfs_lock_storage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';

const phoenix = usePhoenixLab('phx-phoenix-cluster-', 3, { cluster: true });
const HOSTS = ['pve1', 'pve2', 'pve3'];

function recap(r: PhoenixRun): Record<string, Record<string, number>> {
  const ev = r.events.find((e) => e.type === 'recap');
  assert.ok(ev, `no recap in the output:\n${r.stderr.slice(-3000)}`);
  return ev.hosts as Record<string, Record<string, number>>;
}
const failures = (r: PhoenixRun) =>
  r.stderr
    .split('\n')
    .filter((l) => /fatal|FAILED|unreachable/i.test(l))
    .join('\n')
    .slice(0, 4000);

/** The results of one task per host. */
function resultsOf(r: PhoenixRun, task: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const e of r.events)
    if (e.type === 'host_result' && e.task === task) out[e.host as string] = e.result as Record<string, unknown>;
  return out;
}

test('site.yml on a 3-node cluster: converges, each storage defined once, second run changed=0', async () => {
  const site = join('playbooks', 'site.yml');
  const check = await phoenix.phxPlay(site, '--check');
  assert.equal(check.rc, 0, failures(check));
  const first = await phoenix.phxPlay(site);
  assert.equal(first.rc, 0, failures(first));
  for (const h of HOSTS) assert.equal(recap(first)[h].failed, 0, `${h}: ${failures(first)}`);

  // the storage definitions: made by exactly one member, found made by the others
  const storages = resultsOf(first, 'Proxmox storage definitions (stale ones pruned)');
  assert.deepEqual(Object.keys(storages).sort(), HOSTS);
  const makers = HOSTS.filter((h) => storages[h].changed === true);
  assert.equal(makers.length, 1, JSON.stringify(storages));
  const cfg = readFileSync(join(phoenix.lab.cluster!.pveDir, 'storage.cfg'), 'utf8');
  assert.equal(cfg.match(/^zfspool: tank-ct$/gm)?.length, 1, cfg);
  assert.equal(cfg.match(/^dir: tank-backup$/gm)?.length, 1, cfg);

  // each member's guests are its own, under its own node directory
  const pve = phoenix.lab.cluster!.pveDir;
  const ids = (node: string, kind: string) => {
    const r = readdirSafe(join(pve, 'nodes', node, kind));
    return r.map((f) => f.replace(/\.conf$/, '')).sort();
  };
  const all = HOSTS.flatMap((h) => ids(h, 'lxc'));
  assert.equal(new Set(all).size, all.length, `CT ids unique across the cluster: ${all.join(' ')}`);
  for (const h of HOSTS) assert.equal(ids(h, 'lxc').length, 3, `${h}: ${ids(h, 'lxc').join(' ')}`);

  // --check predicted the run: the same number of changes (which member makes the storage changes may differ)
  const total = (r: PhoenixRun) => HOSTS.reduce((n, h) => n + recap(r)[h].changed, 0);
  assert.equal(total(check), total(first));
  const checkStorages = resultsOf(check, 'Proxmox storage definitions (stale ones pruned)');
  assert.equal(HOSTS.filter((h) => checkStorages[h].changed === true).length, 1, JSON.stringify(checkStorages));

  const again = await phoenix.phxPlay(site);
  assert.equal(again.rc, 0, failures(again));
  for (const h of HOSTS) assert.equal(recap(again)[h].changed, 0, `${h}: second run changed`);
});

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d).filter((f) => f.endsWith('.conf'));
  } catch {
    return [];
  }
}
