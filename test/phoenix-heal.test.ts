// The Phoenix playbooks on one lab host, for what the 3-host test does not show:
// a rerun after a failed earlier attempt heals the host (stale storage definitions
// pruned, a shared dataset that had been made a Proxmox storage removed), and shared
// volumes applied only to the containers of the run, with the restart handler firing
// only for a running container whose mounts changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const playbook = (name: string) => join(REPO, 'playbooks', name);
const H = 'pve1';

const phoenix = usePhoenixLab('phx-phoenix-heal-', 1);
const phxPlay = phoenix.phxPlay;
const explain = (r: PhoenixRun) =>
  `rc ${r.rc}\n${r.stderr
    .split('\n')
    .filter((l) => /fatal|FAILED|unreachable/i.test(l))
    .join('\n')
    .slice(0, 4000)}\n…\n${r.stderr.slice(-3000)}`;
const changedCount = (r: PhoenixRun) =>
  (r.events.find((e) => e.type === 'recap')?.hosts as Record<string, { changed: number }>)[H].changed;
/** status of each result of a task (one per loop item, then the loop's summary). */
function statuses(r: PhoenixRun, task: string): string[] {
  return r.events.filter((e) => e.type === 'host_result' && e.task === task).map((e) => e.status as string);
}
function outcomes(r: PhoenixRun): string[] {
  return r.events
    .filter((e) => e.type === 'host_result')
    .map(
      (e) =>
        `${e.task as string} ${JSON.stringify((e.result as Record<string, unknown>).item ?? '')}: ${e.status as string}`,
    );
}
async function sh(command: string): Promise<string> {
  const r = await phoenix.lab.exec(H, command);
  assert.equal(r.rc, 0, `${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('setup.yml: a rerun after a failed attempt heals the host (NFS never came up; stale storages left behind)', async () => {
  // the failed earlier attempt: NFS did not answer in time, and an old script had made a
  // shared dataset a Proxmox storage and left an NFS storage pointing nowhere
  await phoenix.lab.setFaults(H, { nfsDelaySeconds: 3600 });
  const failed = await phxPlay('-e', 'phoenix_nfs_timeout=2', playbook('setup.yml'));
  assert.equal(failed.rc, 2, explain(failed));
  assert.match(failed.stderr, /not ready after [\d.]+ s/);
  await sh(
    "printf '\\ndir: quickOS-shared\\n\\tpath /quickOS/shared\\n\\tcontent rootdir,images\\n\\nnfs: old-nas\\n\\texport /srv/gone\\n\\tpath /mnt/pve/old-nas\\n\\tserver 127.0.0.1\\n\\tcontent images\\n' >> /etc/pve/storage.cfg",
  );
  await phoenix.lab.setFaults(H, {});

  const healed = await phxPlay(playbook('setup.yml'));
  assert.equal(healed.rc, 0, explain(healed));
  const [pvesm] = healed.events.filter(
    (e) => e.type === 'host_result' && e.task === 'Proxmox storage definitions (stale ones pruned)',
  );
  assert.deepEqual((pvesm.result as { removed: string[] }).removed.sort(), ['old-nas', 'quickOS-shared']);
  const cfg = await sh('cat /etc/pve/storage.cfg');
  assert.deepEqual([...cfg.matchAll(/^\w+: (\S+)$/gm)].map((m) => m[1]).sort(), ['local', 'tank-backup', 'tank-ct']);
  assert.equal((await sh('systemctl is-active nfs-server')).trim(), 'active');

  const again = await phxPlay(playbook('setup.yml'));
  assert.equal(again.rc, 0, explain(again));
  assert.equal(changedCount(again), 0);
});

test('containers.yml: a new shared volume reaches only the containers of the run; a running one is restarted once', async () => {
  const first = await phxPlay(playbook('containers.yml'));
  assert.equal(first.rc, 0, explain(first));
  assert.ok(
    !statuses(first, 'Restart the container to apply its new mounts').includes('changed'),
    'containers that were just created need no restart',
  );
  const ct102Before = await sh('pct config 102');

  // a new volume for 101 and 102, but this run is only about 101
  const labVars = parse(readFileSync(join(REPO, 'inventory/group_vars/lab.yml'), 'utf8')) as {
    shared_volumes: Record<string, unknown>;
  };
  const extra = join(phoenix.dir, 'extra-vars.yml');
  writeFileSync(
    extra,
    stringify({
      containers_in_run: [101],
      shared_volumes: {
        ...labVars.shared_volumes,
        // -e @file is data, never a template: the lab's "{{ portainer_dir }}/data" spelled out
        portainer_data: {
          ...(labVars.shared_volumes.portainer_data as object),
          host_path: '/quickOS/vm-persistent-data/1001/portainer/data',
        },
        // mounts are keyed by container name; the run names CT 101 by its id
        media: {
          host_path: '/tank/media-shared',
          owner: 'container_root',
          mounts: { nginx: '/srv/media', 'portainer-agent': '/srv/media' },
        },
      },
    }),
  );
  const check = await phxPlay('--check', '-e', `@${extra}`, playbook('containers.yml'));
  assert.equal(check.rc, 0, explain(check));
  const run = await phxPlay('-e', `@${extra}`, playbook('containers.yml'));
  assert.equal(run.rc, 0, explain(run));
  assert.deepEqual(outcomes(check), outcomes(run), '--check predicted other changes than the run made');
  assert.deepEqual(statuses(run, 'Restart the container to apply its new mounts'), ['changed']);
  assert.match(await sh('pct config 101'), /^mp\d+: \/tank\/media-shared,mp=\/srv\/media$/m);
  assert.equal((await sh('pct status 101')).trim(), 'status: running');
  assert.equal(await sh('pct config 102'), ct102Before, 'CT 102 is not in this run');
  assert.equal(
    (await sh('stat -c "%u:%g %a" /tank/media-shared')).trim(),
    '100000:100000 775',
    'default modes 775/664',
  );

  const again = await phxPlay('-e', `@${extra}`, playbook('containers.yml'));
  assert.equal(again.rc, 0, explain(again));
  assert.equal(changedCount(again), 0);
  assert.ok(!statuses(again, 'Restart the container to apply its new mounts').includes('changed'));
});
