// nfs_wait against a lab host over SSH: the simulated showmount/rpcinfo answer
// from the host's NFS state; nfsDelaySeconds makes the server answer late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nfsWait from '../modules/nfs_wait.js';
import zfsDataset from '../modules/zfs_dataset.js';
import { serveNfs, useTestLab } from './pvesm-zfs-nfs-lab.js';
import { Predictions } from '../src/predictions.js';

const t = useTestLab({ clearFaults: true });

test('a late server (nfsDelaySeconds) is waited for in one round trip, then ok', async () => {
  await t.lab.setFaults(t.host, { nfsDelaySeconds: 3 });
  await serveNfs(t, '/tank/shared');
  const n = t.commands.length;
  const r = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/shared', timeout: 20 });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(r.changed, false);
  assert.equal(r.ready, true);
  assert.ok((r.elapsed as number) >= 2 && (r.elapsed as number) <= 6, `elapsed ${String(r.elapsed)}`);
  assert.ok((r.attempts as number) >= 2);
  assert.equal(t.commands.length - n, 1, 'the wait is one remote command');
  const now = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/shared' });
  assert.equal(now.ready, true);
  assert.ok((now.elapsed as number) < 1, `elapsed ${String(now.elapsed)}`);
});

test('NFS not online: times out and fails with the last probe output', async () => {
  await serveNfs(t, '/tank/shared', { start: false });
  const r = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/shared', timeout: 2, interval: 0.5 });
  assert.equal(r.failed, true);
  assert.match(
    String(r.msg),
    /^NFS export 127\.0\.0\.1:\/tank\/shared not ready after [\d.]+ s \(\d+ probes, timeout 2 s\)\. Last probe:\n/,
  );
  assert.match(String(r.msg), /showmount -e 127\.0\.0\.1: failed \(rc 1\): clnt_create: RPC: Program not registered/);
  assert.match(
    String(r.msg),
    /rpcinfo -T tcp 127\.0\.0\.1 nfs 4: rc 1: rpcinfo: RPC: Program not registered \| program 100003 version 4 is not available/,
  );
});

test('server up but the path is not exported: fails saying so', async () => {
  await serveNfs(t, '/tank/shared');
  const r = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/other', timeout: 1 });
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /showmount -e 127\.0\.0\.1: does not list \/tank\/other: \/tank\/shared/);
  const v3 = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/shared/', nfs_version: 3, timeout: 1 });
  assert.equal(v3.ready, true, String(v3.msg));
});

test('check mode: one probe, never fails; says when an earlier task would create the export', async () => {
  const predicted = new Predictions();
  await t.run(zfsDataset, { name: 'tank/shared' }, { check: true, predicted });
  const t0 = Date.now();
  const r = await t.run(
    nfsWait,
    { server: '127.0.0.1', export: '/tank/shared', timeout: 30 },
    { check: true, predicted },
  );
  assert.ok(Date.now() - t0 < 5000, 'did not wait in check mode');
  assert.equal(r.failed, undefined);
  assert.equal(r.changed, false);
  assert.equal(r.ready, false);
  assert.match(
    String(r.msg),
    /^check mode: NFS export 127\.0\.0\.1:\/tank\/shared is not ready yet; an earlier task would create it \(dataset tank\/shared\); a real run waits up to 30 s/,
  );
  await serveNfs(t, '/tank/shared');
  const ready = await t.run(nfsWait, { server: '127.0.0.1', export: '/tank/shared' }, { check: true });
  assert.equal(ready.ready, true);
});

test('hostile export paths are data: quotes, $(...), spaces', async () => {
  const marker = `/tmp/phx-nfs-pwned-${process.pid}`;
  const r = await t.run(nfsWait, { server: '127.0.0.1', export: `/tank/it's "x" $(touch ${marker})`, timeout: 0 });
  assert.equal(r.failed, true);
  assert.equal((await t.exec(`test -e ${marker}`)).rc, 1);
  assert.throws(() => nfsWait.args.parse({ server: '127.0.0.1', export: 'relative' }), /absolute path/);
});
