// nfs_wait: the report parser and planner on recorded output, and the on-host
// wait script run for real by /bin/sh against stand-in showmount/rpcinfo/nc
// commands (in a temp dir first in PATH) whose answers change over time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nfsWait, { planNfsWait, type NfsWaitArgs } from '../modules/nfs_wait.js';
import { describeProbes, nfsWaitArgv, parseNfsWait, pveOnlineCheck, waitForNfs } from '../src/proxmox/nfs.js';
import { LocalConnection } from '../src/connection/local.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { datasetSlot, Predictions } from '../src/predictions.js';
import type { Connection, ExecOptions, ExecResult } from '../src/connection/types.js';

const parse = (raw: unknown): NfsWaitArgs => nfsWait.args.parse(raw);

const TIMEOUT_REPORT = `@@phx-nfs-wait@@ status ready=0 elapsed_ms=3012 attempts=4
@@phx-nfs-wait@@ showmount rc=1 listed=0
clnt_create: RPC: Program not registered
@@phx-nfs-wait@@ rpcinfo rc=1
rpcinfo: RPC: Program not registered
program 100003 version 4 is not available
@@phx-nfs-wait@@ tcp rc=1 skipped=0
TCP connect to 10.0.0.5:2049 failed
@@phx-nfs-wait@@ end
`;

test('report parser and probe description', () => {
  const o = parseNfsWait(TIMEOUT_REPORT);
  assert.equal(o.ready, false);
  assert.equal(o.elapsed, 3); // 3012 ms, to 0.1 s
  assert.equal(o.attempts, 4);
  assert.deepEqual(o.showmount, { rc: 1, listed: false, output: 'clnt_create: RPC: Program not registered' });
  assert.equal(o.rpcinfo?.output, 'rpcinfo: RPC: Program not registered\nprogram 100003 version 4 is not available');
  assert.equal(
    describeProbes(o, { server: '10.0.0.5', export: '/srv/nfs', nfsVersion: 4 }),
    'showmount -e 10.0.0.5: failed (rc 1): clnt_create: RPC: Program not registered\n' +
      'rpcinfo -T tcp 10.0.0.5 nfs 4: rc 1: rpcinfo: RPC: Program not registered | program 100003 version 4 is not available\n' +
      'TCP 10.0.0.5:2049: rc 1: TCP connect to 10.0.0.5:2049 failed',
  );
  assert.throws(() => parseNfsWait('sh: 1: syntax error'), /did not report/);
});

test('planner: ready is ok, timeout fails with the last probe, check mode does not fail', () => {
  const a = parse({ server: '10.0.0.5', export: '/srv/nfs' });
  const ready = planNfsWait({ outcome: { ready: true, elapsed: 2, attempts: 3 }, check: false }, a);
  assert.deepEqual(ready.changes, []);
  assert.equal(ready.fail, undefined);
  assert.equal(ready.msg, 'NFS export 10.0.0.5:/srv/nfs is ready after 2 s (3 probes)');
  assert.deepEqual(ready.result, { ready: true, elapsed: 2, attempts: 3, server: '10.0.0.5', export: '/srv/nfs' });
  const timedOut = planNfsWait({ outcome: parseNfsWait(TIMEOUT_REPORT), check: false }, a);
  assert.match(
    timedOut.fail ?? '',
    /^NFS export 10.0.0.5:\/srv\/nfs not ready after 3 s \(4 probes, timeout 60 s\)\. Last probe:\nshowmount -e 10.0.0.5: failed/,
  );
  const check = planNfsWait({ outcome: parseNfsWait(TIMEOUT_REPORT), check: true, expected: 'dataset tank/nfs' }, a);
  assert.equal(check.fail, undefined);
  assert.match(
    check.msg ?? '',
    /check mode: NFS export 10.0.0.5:\/srv\/nfs is not ready yet; an earlier task would create it \(dataset tank\/nfs\)/,
  );
  assert.deepEqual(check.result?.warnings, [
    'check mode: NFS export 10.0.0.5:/srv/nfs is not ready yet; an earlier task would create it (dataset tank/nfs); a real run waits up to 60 s',
  ]);
});

test('argument errors', () => {
  const err = (raw: unknown) =>
    nfsWait.args
      .safeParse(raw)
      .error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('\n') ?? '';
  assert.match(err({ server: '10.0.0.5', export: 'srv/nfs' }), /export: export must be an absolute path/);
  assert.match(err({ server: '-oProxy', export: '/x' }), /server must be a host name/);
  assert.match(err({ server: '10.0.0.5', export: '/x', nfs_version: 2 }), /nfs_version must be 3 or 4/);
  assert.match(err({ server: '10.0.0.5', export: '/x', timeout: -1 }), /timeout/);
  assert.match(err({ server: '10.0.0.5', export: '/x', port: 2049 }), /port|Unrecognized/);
  assert.equal(parse({ server: 'nas', export: '/x', nfs_version: '4.2' }).nfs_version, 4);
  assert.deepEqual(parse({ server: 'nas', export: '/x' }), {
    server: 'nas',
    export: '/x',
    timeout: 60,
    interval: 1,
    nfs_version: 4,
    showmount: true,
  });
});

// ---- the wait script, run by sh against stand-in tools

let dir: string;
let state: string;

/** A stand-in tool: answers from files in `state` that the test changes. */
function tool(name: string, body: string) {
  const p = join(dir, 'bin', name);
  writeFileSync(p, `#!/bin/sh\nS='${state}'\n${body}\n`);
  chmodSync(p, 0o755);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'phx-nfs-test-'));
  state = join(dir, 'state');
  mkdirSync(join(dir, 'bin'));
  // showmount: fails until state/up exists, then lists state/exports
  tool(
    'showmount',
    `echo "$*" >> "$S/showmount.log"
[ -e "$S/up" ] || { echo 'clnt_create: RPC: Program not registered' >&2; exit 1; }
while IFS= read -r p; do printf '%-20s %s\\n' "$p" '(everyone)'; done < "$S/exports"`,
  );
  // rpcinfo: ready once state/up exists
  tool(
    'rpcinfo',
    `echo "$*" >> "$S/rpcinfo.log"
if [ -e "$S/up" ]; then echo 'program 100003 version 4 ready and waiting'; exit 0; fi
echo 'rpcinfo: RPC: Program not registered' >&2; echo 'program 100003 version 4 is not available'; exit 1`,
  );
  // nc: the TCP probe; connects only when state/tcp exists
  tool('nc', `echo "$*" >> "$S/nc.log"; [ -e "$S/tcp" ] || { echo 'Connection refused' >&2; exit 1; }`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function reset(exports: string[], up: boolean) {
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state);
  writeFileSync(join(state, 'exports'), exports.map((e) => e + '\n').join(''));
  if (up) writeFileSync(join(state, 'up'), '');
}

/** Counts round trips: the wait must be one command however long it takes. */
class Counting implements Connection {
  readonly kind = 'local' as const;
  private inner = new LocalConnection();
  calls = 0;
  async connect() {}
  exec(c: string, o?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    return this.inner.exec(c, o);
  }
  putFile(p: string, d: Buffer) {
    return this.inner.putFile(p, d);
  }
  getFile(p: string) {
    return this.inner.getFile(p);
  }
  async close() {}
}

function context(check = false, predicted = new Predictions()) {
  const conn = new Counting();
  const ctx = createModuleContext({
    host: 'h',
    conn,
    check,
    predicted,
    env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
  });
  return { conn, ctx };
}

test('script: ready at once when the export is listed and rpcinfo answers', async () => {
  reset(['/tank/shared', '/tank/other'], true);
  const { conn, ctx } = context();
  const r = await runModule(nfsWait, parse({ server: '127.0.0.1', export: '/tank/shared/' }), ctx);
  assert.equal(r.changed, false);
  assert.equal(r.failed, undefined);
  assert.equal(r.ready, true);
  assert.equal(r.attempts, 1);
  assert.equal(conn.calls, 1);
  assert.ok(!existsSync(join(state, 'nc.log')), 'TCP probe skipped when rpcinfo answered');
});

test('script: waits for a server that comes up late, in one round trip', async () => {
  reset(['/tank/shared'], false);
  const { conn, ctx } = context();
  const timer = setTimeout(() => writeFileSync(join(state, 'up'), ''), 1500);
  const r = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/shared', timeout: 10, interval: 0.2 }),
    ctx,
  );
  clearTimeout(timer);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(r.ready, true);
  assert.ok((r.attempts as number) > 3, `attempts ${String(r.attempts)}`);
  assert.ok((r.elapsed as number) >= 1 && (r.elapsed as number) <= 4, `elapsed ${String(r.elapsed)}`);
  assert.equal(conn.calls, 1);
});

test('script: times out with the last probe output', async () => {
  reset(['/tank/other'], true);
  const { ctx } = context();
  const t0 = Date.now();
  const r = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/shared', timeout: 1, interval: 0.3 }),
    ctx,
  );
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /^NFS export 127.0.0.1:\/tank\/shared not ready after 1(\.\d)? s/);
  assert.match(String(r.msg), /showmount -e 127.0.0.1: does not list \/tank\/shared: \/tank\/other +\(everyone\)/);
});

test('script: rpcinfo failing falls back to TCP 2049; showmount: false skips the export list', async () => {
  reset(['/tank/shared'], false);
  writeFileSync(join(state, 'tcp'), '');
  const { ctx } = context();
  const r = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/shared', timeout: 0, showmount: false }),
    ctx,
  );
  assert.equal(r.ready, true, String(r.msg));
  assert.ok(existsSync(join(state, 'nc.log')));
  assert.ok(!existsSync(join(state, 'showmount.log')));
  const again = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/shared', timeout: 0 }),
    context().ctx,
  );
  assert.equal(again.failed, true, 'showmount still fails');
});

test('script: check mode probes once and does not fail', async () => {
  reset([], false);
  const predicted = Predictions.of([
    datasetSlot.entry('tank/shared', { exists: true, properties: {}, mountpoint: '/tank/shared' }),
  ]);
  const { ctx } = context(true, predicted);
  const t0 = Date.now();
  const r = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/shared/portainer', timeout: 30 }),
    ctx,
  );
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(r.changed, false);
  assert.equal(r.failed, undefined);
  assert.equal(r.attempts, 1);
  assert.match(String(r.msg), /check mode: .* not ready yet; an earlier task would create it \(dataset tank\/shared\)/);
});

test('script: hostile server and export values are data, never code', async () => {
  reset([`/srv/it's "odd" $(touch ${state}/pwned)`], true);
  const { ctx } = context();
  const exp = `/srv/it's "odd" $(touch ${state}/pwned)`;
  const r = await runModule(nfsWait, parse({ server: '127.0.0.1', export: exp, timeout: 0 }), ctx);
  assert.equal(r.ready, true, String(r.msg));
  assert.ok(!existsSync(join(state, 'pwned')));
  // a prefix of a listed export is not the export
  const prefix = await waitForNfs(ctx, {
    server: '127.0.0.1',
    export: '/srv/it',
    timeout: 0,
    interval: 1,
    nfsVersion: 4,
    showmount: true,
  });
  assert.equal(prefix.ready, false);
  assert.deepEqual(
    nfsWaitArgv({ server: 's', export: '/x/', timeout: 1.2, interval: 1, nfsVersion: 3, showmount: false }).slice(3),
    ['phx-nfs-wait', 's', '/x', '1200', '1', '3', '0', '1', '2049'],
  );
});

test('script: a subdirectory of a listed export counts as listed (it mounts); a sibling does not', async () => {
  reset(['/tank/shared'], true);
  const { ctx } = context();
  const sub = await runModule(nfsWait, parse({ server: '127.0.0.1', export: '/tank/shared/portainer/data' }), ctx);
  assert.equal(sub.ready, true, String(sub.msg));
  const sibling = await runModule(
    nfsWait,
    parse({ server: '127.0.0.1', export: '/tank/sharedother', timeout: 0 }),
    context().ctx,
  );
  assert.equal(sibling.failed, true);
});

// pve-storage src/PVE/Storage/NFSPlugin.pm, check_connection: the test `pvesm add nfs` makes
test('pveOnlineCheck: the probes of NFSPlugin::check_connection, by the storage options', () => {
  assert.deepEqual(pveOnlineCheck(undefined), { showmount: 'answers', rpc: false, nfsVersion: 3 });
  assert.deepEqual(pveOnlineCheck('vers=3,soft'), { showmount: 'answers', rpc: false, nfsVersion: 3 });
  assert.deepEqual(pveOnlineCheck('vers=4.2'), { showmount: false, rpc: true, nfsVersion: 4, port: 2049 });
  // the same regexes as the Perl: nfsvers=4 matches /vers=4.*/
  assert.equal(pveOnlineCheck('nfsvers=4,soft').rpc, true);
  assert.equal(pveOnlineCheck('vers=4.1,port=20490').port, 20490);
});

// pve-storage src/PVE/Storage/NFSPlugin.pm, check_connection (v3 branch): showmount's exit status only
test('script, PVE v3 check: showmount exiting 0 is enough (the export need not be listed); no rpcinfo', async () => {
  reset(['/tank/other'], true);
  const { ctx } = context();
  const o = { server: '127.0.0.1', export: '/tank/shared', timeout: 0, interval: 1, ...pveOnlineCheck('') };
  const r = await waitForNfs(ctx, o);
  assert.equal(r.ready, true);
  assert.equal(r.rpcinfo, undefined);
  assert.ok(!existsSync(join(state, 'rpcinfo.log')));
  assert.match(describeProbes(r, o), /^showmount -e 127\.0\.0\.1: answers: /);
  reset([], false);
  const down = await waitForNfs(context().ctx, o);
  assert.equal(down.ready, false);
});

// pve-storage src/PVE/Storage/NFSPlugin.pm, check_connection (v4 branch): rpcinfo, else tcp_ping; no showmount
test('script, PVE v4 check: a v4-only server (showmount fails, rpcinfo answers) is online', async () => {
  reset([], false);
  // rpcinfo answers, showmount does not (no mountd on a v4-only server)
  writeFileSync(
    join(dir, 'bin', 'rpcinfo'),
    `#!/bin/sh\necho "$*" >> '${state}/rpcinfo.log'\necho 'program 100003 version 4 ready and waiting'\n`,
  );
  chmodSync(join(dir, 'bin', 'rpcinfo'), 0o755);
  try {
    const { ctx } = context();
    const o = {
      server: '127.0.0.1',
      export: '/tank/shared/sub',
      timeout: 0,
      interval: 1,
      ...pveOnlineCheck('vers=4.2'),
    };
    const r = await waitForNfs(ctx, o);
    assert.equal(r.ready, true, describeProbes(r, o));
    assert.equal(r.showmount, undefined);
    assert.ok(!existsSync(join(state, 'showmount.log')));
  } finally {
    // back to the stand-in that follows state/up
    writeFileSync(
      join(dir, 'bin', 'rpcinfo'),
      `#!/bin/sh\nS='${state}'\necho "$*" >> "$S/rpcinfo.log"\nif [ -e "$S/up" ]; then echo 'program 100003 version 4 ready and waiting'; exit 0; fi\necho 'rpcinfo: RPC: Program not registered' >&2; echo 'program 100003 version 4 is not available'; exit 1\n`,
    );
  }
  // rpcinfo fails: the TCP probe decides, on the port the options name; port=0 is offline
  reset([], false);
  writeFileSync(join(state, 'tcp'), '');
  const o = { server: '127.0.0.1', export: '/x', timeout: 0, interval: 1, ...pveOnlineCheck('vers=4,port=20490') };
  const viaTcp = await waitForNfs(context().ctx, o);
  assert.equal(viaTcp.ready, true);
  assert.match(readFileSync(join(state, 'nc.log'), 'utf8'), /127\.0\.0\.1 20490/);
  const zero = await waitForNfs(context().ctx, { ...o, ...pveOnlineCheck('vers=4,port=0') });
  assert.equal(zero.ready, false);
  assert.match(describeProbes(zero, o), /port=0/);
});
