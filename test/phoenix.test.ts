// The Phoenix playbooks (playbooks/site.yml) against a fresh 3-host lab over SSH,
// through the real CLI: --check changes nothing and predicts per host exactly what
// the real run then does; the real run converges; a second run changes nothing;
// the seeds' verification steps hold; the lab's timing faults (NFS and guest agent
// late) are survived without fixed sleeps; one unreachable host leaves the other
// two converged and exits 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usePhoenixLab, type PhoenixRun } from './harness/phoenix-lab.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SITE = join(REPO, 'playbooks/site.yml');

const phoenix = usePhoenixLab('phx-phoenix-', 3);
const phxPlay = phoenix.phxPlay;

/** Per host, the tasks in order with what each reported (loops: per item). */
function outcomes(r: PhoenixRun): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const e of r.events) {
    if (e.type !== 'host_result' && e.type !== 'item_result') continue;
    const result = (e.result ?? {}) as Record<string, unknown>;
    const item = result.item !== undefined ? ` [${JSON.stringify(result.item)}]` : '';
    (by[e.host as string] ??= []).push(
      `${e.type === 'item_result' ? '  ' : ''}${e.task as string}${item}: ${e.status as string}`,
    );
  }
  return by;
}
function recap(r: PhoenixRun): Record<string, Record<string, number>> {
  const ev = r.events.find((e) => e.type === 'recap');
  assert.ok(ev, `no recap in the output:\n${r.stderr}`);
  return ev.hosts as Record<string, Record<string, number>>;
}
/** The registered results of one task on one host (one per loop item). */
function results(r: PhoenixRun, host: string, task: string): Array<Record<string, unknown>> {
  return r.events
    .filter((e) => e.type === 'host_result' && e.host === host && e.task === task)
    .map((e) => e.result as Record<string, unknown>)
    .filter((x) => !Array.isArray(x.results));
}
const explain = (r: PhoenixRun) =>
  `rc ${r.rc}\n${r.stderr
    .split('\n')
    .filter((l) => /fatal|FAILED|unreachable/i.test(l))
    .join('\n')
    .slice(0, 4000)}\n…\n${r.stderr.slice(-3000)}`;

/** Every file of a lab host's state (its / as the lab simulates it): path, type, mode, owner, content. */
function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = p.slice(root.length);
      const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(rel, `dir ${meta}`);
        walk(p);
      } else if (st.isSymbolicLink()) out.set(rel, `link ${meta} ${readlinkSync(p)}`);
      else if (st.isFile()) out.set(rel, `file ${meta} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      else out.set(rel, `other ${meta}`);
    }
  };
  walk(root);
  return out;
}
/** The lab's own machinery: the first `qm guest exec` makes empty mount points for its binds in the VM's root. */
const labMountPoint = (path: string, entry: string) =>
  entry.startsWith('dir ') && /^\/var\/lib\/phx-lab\/vm\/\d+\/rootfs\//.test(path);
function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) diffs.push(`${k}: ${v} → ${b.get(k) ?? '(gone)'}`);
  for (const [k, v] of b) if (!a.has(k) && !labMountPoint(k, v)) diffs.push(`${k}: (new) ${v}`);
  return diffs;
}

async function sh(host: string, command: string): Promise<string> {
  const r = await phoenix.lab.exec(host, command);
  assert.equal(r.rc, 0, `on ${host}: ${command}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
/** qm guest exec's JSON: the guest command's exit code and output. */
async function inVm(host: string, argv: string): Promise<{ exitcode: number; out: string; err: string }> {
  const j = JSON.parse(await sh(host, `qm guest exec 1001 -- ${argv}`)) as Record<string, unknown>;
  return { exitcode: j.exitcode as number, out: (j['out-data'] as string) ?? '', err: (j['err-data'] as string) ?? '' };
}

const HOSTS = ['pve1', 'pve2', 'pve3'];

test('fresh lab: --check changes nothing and predicts exactly the real run; the real run converges; a rerun changes nothing', async () => {
  const before = phoenix.lab.hosts.map((h) => hashTree(h.root));
  const check = await phxPlay('--check', SITE);
  assert.equal(check.rc, 0, explain(check));
  phoenix.lab.hosts.forEach((h, i) =>
    assert.deepEqual(treeDiff(before[i], hashTree(h.root)), [], `--check changed ${h.name}'s state`),
  );

  const real = await phxPlay(SITE);
  assert.equal(real.rc, 0, explain(real));
  const predicted = outcomes(check);
  const happened = outcomes(real);
  for (const h of HOSTS) {
    assert.ok(
      happened[h].some((l) => l.endsWith(': changed')),
      `${h}: the first run changed nothing`,
    );
    assert.deepEqual(predicted[h], happened[h], `${h}: --check predicted other changes than the real run made`);
  }
  for (const [h, counts] of Object.entries(recap(real))) assert.equal(counts.failed, 0, `${h} failed`);

  const again = await phxPlay(SITE);
  assert.equal(again.rc, 0, explain(again));
  for (const h of HOSTS)
    assert.equal(
      recap(again)[h].changed,
      0,
      `${h}: second run changed ${JSON.stringify(outcomes(again)[h].filter((l) => l.endsWith('changed')))}`,
    );
});

/** Runs the same checks on every host at once. */
const onEveryHost = (fn: (h: string) => Promise<void>) => Promise.all(HOSTS.map(fn));

test('seed verification: storage, containers and shared volumes as declared', async () => {
  await onEveryHost(async (h) => {
    const cfg = await sh(h, 'cat /etc/pve/storage.cfg');
    assert.match(cfg, /zfspool: tank-ct\n\tpool tank\/ct\n/);
    assert.match(cfg, /dir: tank-backup\n\tpath \/tank\/backup\n/);
    assert.doesNotMatch(cfg, /quickOS/, 'a shared dataset must not be a Proxmox storage');
    assert.match(await sh(h, 'exportfs -v'), /\/quickOS\/vm-persistent-data/);
    assert.match(await sh(h, 'showmount -e --no-headers 127.0.0.1'), /^\/quickOS\/shared /m);
    assert.equal((await sh(h, 'pct status 101')).trim(), 'status: running');
    assert.equal((await sh(h, 'pct status 900')).trim(), 'status: stopped');
    const ct101 = await sh(h, 'pct config 101');
    assert.match(ct101, /^unprivileged: 1$/m);
    assert.match(ct101, /^mp\d+: \/quickOS\/shared\/ssl,mp=\/etc\/ssl\/phoenix$/m);
    const ct102 = await sh(h, 'pct config 102'); // cloned from 900, then its bind mount added
    assert.match(ct102, /^hostname: portainer-agent$/m);
    assert.match(ct102, /^unprivileged: 1$/m);
    assert.match(ct102, /^mp\d+: \/quickOS\/vm-persistent-data\/1001\/portainer\/data,mp=\/srv\/portainer-data$/m);
    assert.equal((await sh(h, 'systemctl is-enabled nfs-server')).trim(), 'enabled');
    // owners and the seed's modes per volume
    assert.equal((await sh(h, 'stat -c "%u:%g %a" /quickOS/shared/ssl')).trim(), '100000:100000 755');
    assert.equal(
      (await sh(h, 'stat -c "%u:%g %a" /quickOS/vm-persistent-data/1001/portainer/data')).trim(),
      '100000:100000 770',
    );
    assert.equal((await sh(h, 'stat -c "%U:%G %a" /quickOS/shared/data')).trim(), 'nobody:nogroup 775');
  });
});

test('seed verification: portainer_data_nfs has the NFS options, a file written through it lands on the hypervisor', async () => {
  await onEveryHost(async (h) => {
    const inspect = await inVm(h, 'docker volume inspect portainer_data_nfs');
    assert.equal(inspect.exitcode, 0, inspect.err);
    const [vol] = JSON.parse(inspect.out) as Array<{ Driver: string; Options: Record<string, string> }>;
    assert.equal(vol.Driver, 'local');
    assert.deepEqual(vol.Options, {
      type: 'nfs',
      o: 'addr=127.0.0.1,rw,nfsvers=4',
      device: ':/quickOS/vm-persistent-data/1001/portainer/data',
    });
    const touch = await inVm(h, 'docker run --rm -v portainer_data_nfs:/data alpine touch /data/test_file.txt');
    assert.equal(touch.exitcode, 0, touch.err);
    await sh(h, 'ls /quickOS/vm-persistent-data/1001/portainer/data/test_file.txt');
    await sh(h, 'rm /quickOS/vm-persistent-data/1001/portainer/data/test_file.txt');
    const ps = await inVm(h, 'docker inspect portainer_server');
    assert.equal(ps.exitcode, 0, ps.err);
    const [c] = JSON.parse(ps.out) as Array<{ State: { Status: string } }>;
    assert.equal(c.State.Status, 'running');
  });
});

test("seed verification: nginx's key is 0640 root:www-data in CT 101 (100000:100033 on the host), nginx reloaded", async () => {
  const key = '/etc/nginx/ssl/nginx.internal.thinkheads.ai.key';
  await onEveryHost(async (h) => {
    assert.equal((await sh(h, `pct exec 101 -- stat -c '%U:%G %a' ${key}`)).trim(), 'root:www-data 640');
    const rootfs = /^rootfs: tank-ct:([^,\n]+)/m.exec(await sh(h, 'pct config 101'));
    assert.ok(rootfs, 'CT 101 has its rootfs on tank-ct');
    assert.equal((await sh(h, `stat -c '%u:%g %a' /tank/ct/${rootfs[1]}${key}`)).trim(), '100000:100033 640');
    // www-data can read it inside the container
    await sh(h, `pct exec 101 -- setpriv --reuid 33 --regid 33 --clear-groups cat ${key} >/dev/null`);
    assert.match(await sh(h, 'cat /var/lib/phx-play/cert_hook/nginx.internal.thinkheads.ai.json'), /fingerprint/);
  });
});

test('timing faults: NFS and the guest agent 5 s late on fresh hosts — the run still converges', async () => {
  await onEveryHost(async (h) => {
    await phoenix.lab.reset(h);
    await phoenix.lab.setFaults(h, { nfsDelaySeconds: 5, guestAgentDelaySeconds: 5 });
  });
  try {
    const r = await phxPlay(SITE);
    assert.equal(r.rc, 0, explain(r));
    for (const h of HOSTS) assert.equal(recap(r)[h].failed, 0);
    // NFS really was late after the play started nfs-server: the wait waited instead of failing
    for (const h of HOSTS) {
      const waited = results(r, h, 'Wait until each shared dataset is exported and NFS answers').map((x) =>
        Number(x.elapsed ?? 0),
      );
      assert.ok(Math.max(...waited) >= 2, `${h}: nfs_wait did not wait (${waited.join(', ')})`);
    }
    // Right after an NFS restart, and right after a VM boot (the field notes' races): Portainer's play waits for each.
    const portainer = join(REPO, 'playbooks/portainer.yml');
    await onEveryHost((h) => sh(h, 'systemctl restart nfs-server').then(() => undefined));
    const afterNfsRestart = await phxPlay(portainer);
    assert.equal(afterNfsRestart.rc, 0, explain(afterNfsRestart));
    for (const h of HOSTS) {
      assert.equal(recap(afterNfsRestart)[h].changed, 0);
      const [nfs] = results(afterNfsRestart, h, 'The NFS export the VM mounts from answers');
      assert.ok(
        Number(nfs.elapsed) >= 1 && Number(nfs.attempts) > 1,
        `${h}: nfs_wait did not wait: ${JSON.stringify(nfs)}`,
      );
    }
    await onEveryHost((h) => sh(h, 'qm reboot 1001').then(() => undefined));
    const afterBoot = await phxPlay(portainer);
    assert.equal(afterBoot.rc, 0, explain(afterBoot));
    for (const h of HOSTS) {
      assert.equal(recap(afterBoot)[h].changed, 0);
      const volume = afterBoot.events.find(
        (e) =>
          e.type === 'host_result' &&
          e.host === h &&
          e.task === 'Portainer data volume on the NFS share (its directory on the hypervisor made first)',
      );
      assert.ok(
        Number(volume?.durationMs) >= 1000,
        `${h}: docker_volume did not wait for the guest agent (${String(volume?.durationMs)} ms)`,
      );
    }
  } finally {
    await onEveryHost((h) => phoenix.lab.setFaults(h, {}));
  }
});

test('one hypervisor unreachable: the other two converge, exit code 4', async () => {
  await Promise.all([phoenix.lab.reset('pve1'), phoenix.lab.reset('pve2')]);
  await phoenix.lab.setFaults('pve3', { refuseConnections: true });
  try {
    const r = await phxPlay(SITE);
    assert.equal(r.rc, 4, explain(r));
    const counts = recap(r);
    assert.equal(counts.pve3.unreachable, 1);
    for (const h of ['pve1', 'pve2']) {
      assert.equal(counts[h].failed, 0);
      assert.equal(counts[h].unreachable, 0);
      assert.ok(counts[h].changed > 0);
    }
    const again = await phxPlay('-l', 'pve1,pve2', SITE);
    assert.equal(again.rc, 0, explain(again));
    for (const h of ['pve1', 'pve2']) assert.equal(recap(again)[h].changed, 0);
  } finally {
    await phoenix.lab.setFaults('pve3', {});
  }
});
