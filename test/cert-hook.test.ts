// cert_hook: decisions on recorded facts, and real runs on a real certificate
// (openssl on this machine) through a local connection.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync, chmodSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import certHook, { plan, type CertHookFacts } from '../modules/cert_hook.js';
import {
  hookReason,
  isPveproxyCert,
  keyDifferences,
  parseCertState,
  parseKeyStat,
  parseOpensslFingerprint,
  parsePvenodeCertInfo,
  pvenodeEntryFor,
  nodeCertPath,
  parseNodeName,
} from '../src/proxmox/cert.js';
import { LocalConnection } from '../src/connection/local.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { containerSlot, Predictions } from '../src/predictions.js';

const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const args = (a: Record<string, unknown>) => certHook.args.parse(a);
const base = {
  name: 'nginx',
  cert: '/etc/nginx/ssl/n.crt',
  key: '/etc/nginx/ssl/n.key',
  ctid: 101,
  key_owner: 'root',
  key_group: 'www-data',
  key_mode: '0640',
  post_renewal: [['pct', 'exec', '101', '--', 'systemctl', 'reload', 'nginx']],
};

test('fingerprints: openssl 3 and 1.1 wording, pvenode JSON by file name', () => {
  assert.equal(parseOpensslFingerprint(`sha256 Fingerprint=${FP.toLowerCase()}\n`), FP);
  assert.equal(parseOpensslFingerprint(`SHA256 Fingerprint=${FP}\n`), FP);
  const info = parsePvenodeCertInfo(
    JSON.stringify([
      { filename: 'pve-root-ca.pem', fingerprint: '11:22', notafter: 1 },
      { filename: 'pveproxy-ssl.pem', fingerprint: FP.toLowerCase(), notafter: 1767225600, subject: '/CN=pve1' },
    ]),
  );
  assert.deepEqual(pvenodeEntryFor(info, '/etc/pve/nodes/pve1/pveproxy-ssl.pem'), {
    filename: 'pveproxy-ssl.pem',
    fingerprint: FP,
    notafter: 1767225600,
    subject: '/CN=pve1',
  });
  assert.ok(isPveproxyCert('/etc/pve/nodes/pve1/pveproxy-ssl.pem'));
  assert.ok(isPveproxyCert('/etc/pve/local/pve-ssl.pem'));
  assert.ok(!isPveproxyCert('/etc/letsencrypt/live/x/fullchain.pem'));
});

test('state and key decisions', () => {
  assert.equal(parseCertState(undefined), null);
  assert.equal(parseCertState('garbage'), null);
  const st = parseCertState(JSON.stringify({ name: 'n', cert: '/c', fingerprint: FP }))!;
  assert.equal(hookReason(FP, null, false), 'first-run');
  assert.equal(hookReason(FP.toLowerCase(), st, false), 'none');
  assert.equal(hookReason('00:11', st, false), 'renewed');
  assert.equal(hookReason(FP, st, true), 'permissions');
  const k = parseKeyStat('root www-data 0 33 640\n')!;
  assert.deepEqual(k, { owner: 'root', group: 'www-data', uid: 0, gid: 33, mode: 0o640 });
  assert.deepEqual(keyDifferences(k, { owner: 'root', group: 'www-data', mode: 0o640 }), {
    owner: false,
    group: false,
    mode: false,
  });
  assert.deepEqual(keyDifferences(k, { owner: 0, group: '33', mode: 0o600 }), {
    owner: false,
    group: false,
    mode: true,
  });
  assert.deepEqual(keyDifferences(k, { group: 'nginx' }), { owner: false, group: true, mode: false });
});

const f = (extra: Partial<CertHookFacts>): CertHookFacts => ({
  fingerprint: FP,
  state: { name: 'nginx', cert: base.cert, fingerprint: FP },
  key: { owner: 'root', group: 'www-data', uid: 0, gid: 33, mode: 0o640 },
  ...extra,
});

test('plan: unchanged is ok; a wrong key mode is fixed inside the CT and the hook runs; then the state is recorded', () => {
  assert.equal(plan(f({}), args(base)).changes.length, 0);
  const p = plan(f({ key: { owner: 'root', group: 'root', uid: 0, gid: 0, mode: 0o600 } }), args(base));
  assert.deepEqual(
    p.changes.map((c) => c.argv ?? c.description),
    [
      ['pct', 'exec', '101', '--', 'chown', ':www-data', '--', '/etc/nginx/ssl/n.key'],
      ['pct', 'exec', '101', '--', 'chmod', '0640', '--', '/etc/nginx/ssl/n.key'],
      'run pct exec 101 -- systemctl reload nginx',
      [
        'sh',
        '-c',
        'umask 077 && mkdir -p -- "$1" && cat > "$2.tmp" && mv -f -- "$2.tmp" "$2"',
        'sh',
        '/var/lib/phx-play/cert_hook',
        '/var/lib/phx-play/cert_hook/nginx.json',
      ],
    ],
  );
  assert.equal((p.result as Record<string, unknown>).reason, 'permissions');
  const renewed = plan(f({ state: { name: 'nginx', cert: base.cert, fingerprint: '00' } }), args(base));
  assert.deepEqual(
    renewed.changes.map((c) => c.description),
    ['run pct exec 101 -- systemctl reload nginx', 'record fingerprint in /var/lib/phx-play/cert_hook/nginx.json'],
  );
  assert.equal((renewed.result as Record<string, unknown>).renewed, true);
  assert.equal((JSON.parse(String(renewed.changes[1].stdin)) as { fingerprint: string }).fingerprint, FP);
});

test('plan: key missing / never appeared / errors', () => {
  assert.match(plan(f({ key: null }), args(base)).fail!, /key \/etc\/nginx\/ssl\/n.key in CT 101 does not exist/);
  assert.match(
    plan(f({ key: null, waited: 5 }), args({ ...base, wait_for_key: true, wait_timeout: 5 })).fail!,
    /did not appear within 5 s/,
  );
  const chk = plan(f({ key: null }), args({ ...base, wait_for_key: true }));
  assert.equal(chk.fail, undefined, 'check mode: the key would appear');
  assert.equal(chk.changes.length, 4);
  assert.match(
    plan({ state: null, error: 'CT 101 is not running (pct exec needs it running)' }, args(base)).fail!,
    /not running/,
  );
});

test('check mode: a certificate or CT an earlier task would create is assumed, not a failure', () => {
  const missingCert: CertHookFacts = {
    state: null,
    key: null,
    certMissing: true,
    error: 'certificate /etc/nginx/ssl/n.crt in CT 101 does not exist',
  };
  assert.match(plan(missingCert, args(base)).fail!, /does not exist/, 'a real run fails');
  const chk = plan(missingCert, args(base), { check: true });
  assert.equal(chk.fail, undefined);
  assert.deepEqual(
    chk.changes.map((c) => c.description),
    [
      'chown :www-data /etc/nginx/ssl/n.key in CT 101',
      'chmod 0640 /etc/nginx/ssl/n.key in CT 101',
      'run pct exec 101 -- systemctl reload nginx',
      'record fingerprint in /var/lib/phx-play/cert_hook/nginx.json',
    ],
  );
  assert.equal((chk.result as Record<string, unknown>).fingerprint, null);
  assert.match(chk.msg!, /check mode: certificate \/etc\/nginx\/ssl\/n.crt not there yet/);

  const noCt: CertHookFacts = { state: null, ctMissing: true, error: 'CT 101 does not exist' };
  assert.match(
    plan(certHook.overlay!(noCt, args(base), new Predictions()), args(base), { check: true }).fail!,
    /CT 101 does not exist/,
    'not predicted: still a failure',
  );
  const predicted = Predictions.of([containerSlot.entry(101, { config: { keys: {}, lxc: [] }, status: 'running' })]);
  assert.equal(plan(certHook.overlay!(noCt, args(base), predicted), args(base), { check: true }).changes.length, 4);
});

test('bad arguments', () => {
  const bad = (a: Record<string, unknown>) => {
    const r = certHook.args.safeParse(a);
    assert.ok(!r.success, JSON.stringify(a));
    return r.error.issues.map((i) => i.message).join('\n');
  };
  assert.match(bad({ ...base, name: '../x' }), /names the state file/);
  assert.match(bad({ ...base, post_renewal: 'systemctl reload nginx' }), /array/i);
  assert.match(bad({ ...base, post_renewal: [[]] }), /program name/);
  assert.match(bad({ name: 'x', cert: '/c', key_mode: '0640' }), /need key/);
  assert.match(bad({ ...base, key_mode: 'rw' }), /not an octal mode/);
  assert.match(bad({ ...base, key_mode: 640 }), /decimal number 640/);
  assert.match(bad({ ...base, fingerprint_source: 'pvenode' }), /not with ctid/);
});

// ---------------------------------------------------------------- real certificate

const dir = mkdtempSync(join(tmpdir(), 'phx-cert-hook-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const conn = new LocalConnection();
const certPath = join(dir, "site's cert.pem");
const keyPath = join(dir, 'site $(x).key');
const stateDir = join(dir, 'state');
const hookLog = join(dir, 'hook.log');

function newCert(): string {
  const tmpKey = join(dir, 'k.tmp');
  const tmpCert = join(dir, 'c.tmp');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      tmpKey,
      '-out',
      tmpCert,
      '-days',
      '30',
      '-subj',
      '/CN=test',
    ],
    { stdio: 'ignore' },
  );
  renameSync(tmpCert, certPath);
  renameSync(tmpKey, keyPath);
  chmodSync(keyPath, 0o600);
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certPath])
    .toString()
    .split('=')[1]
    .trim();
}

const hookArgs = (extra: Record<string, unknown> = {}) => ({
  name: 'site',
  cert: certPath,
  key: keyPath,
  key_owner: 'root',
  key_group: 'www-data',
  key_mode: '0640',
  state_dir: stateDir,
  post_renewal: [
    ['sh', '-c', 'echo "reload $1" >> "$2"', 'sh', 'one; $(touch pwned)', hookLog],
    ['sh', '-c', 'echo two >> "$1"', 'sh', hookLog],
  ],
  ...extra,
});
const run = (a: Record<string, unknown>, check = false) =>
  runModule(certHook, certHook.args.parse(a), createModuleContext({ host: 'local', conn, check, diff: true }));
const log = () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8') : '');

test('real: check predicts, first run fixes the key and runs the hook once, second run ok, renewal runs it again', async () => {
  const fp = newCert();
  const chk = await run(hookArgs(), true);
  assert.equal(chk.changed, true);
  assert.equal(log(), '', 'check mode ran nothing');
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
  assert.ok(!existsSync(stateDir));

  const first = await run(hookArgs());
  assert.equal(first.failed, undefined, String(first.msg));
  assert.equal(first.changed, true);
  assert.equal(first.msg, chk.msg, 'check mode predicted exactly the changes');
  assert.equal(first.fingerprint, fp);
  assert.equal(log(), 'reload one; $(touch pwned)\ntwo\n');
  const st = statSync(keyPath);
  assert.equal(st.mode & 0o777, 0o640);
  assert.equal(st.gid, 33);
  assert.equal(
    (JSON.parse(readFileSync(join(stateDir, 'site.json'), 'utf8')) as { fingerprint: string }).fingerprint,
    fp,
  );

  const second = await run(hookArgs());
  assert.equal(second.changed, false);
  assert.equal(log(), 'reload one; $(touch pwned)\ntwo\n', 'not run again');

  const fp2 = newCert();
  assert.notEqual(fp2, fp);
  const renewed = await run(hookArgs());
  assert.equal(renewed.changed, true);
  assert.equal(renewed.renewed, true);
  assert.equal(renewed.previous_fingerprint, fp);
  assert.equal(log().split('\n').filter(Boolean).length, 4);
});

test('real: a failing command stops the hook and the fingerprint is not recorded (the next run retries)', async () => {
  newCert();
  writeFileSync(hookLog, '');
  const failing = hookArgs({
    post_renewal: [
      ['sh', '-c', 'echo first >> "$1"; echo broken >&2; exit 3', 'sh', hookLog],
      ['sh', '-c', 'echo never >> "$1"', 'sh', hookLog],
    ],
  });
  const r = await run(failing);
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /post_renewal command 1 of 2 failed \(rc 3\).*broken/);
  assert.equal(log(), 'first\n');
  const again = await run(hookArgs());
  assert.equal(again.changed, true, 'still seen as renewed');
});

test('real: wait_for_key waits for a key that appears later, and fails bounded when it never does', async () => {
  newCert();
  const lateKey = join(dir, 'late.key');
  setTimeout(() => writeFileSync(lateKey, 'k', { mode: 0o600 }), 1500);
  const r = await run(hookArgs({ name: 'late', key: lateKey, wait_for_key: true, wait_timeout: 10 }));
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(statSync(lateKey).mode & 0o777, 0o640);

  const t0 = Date.now();
  const never = await run(
    hookArgs({ name: 'never', key: join(dir, 'never.key'), wait_for_key: true, wait_timeout: 2 }),
  );
  assert.equal(never.failed, true);
  assert.match(String(never.msg), /did not appear within 2 s/);
  assert.ok(Date.now() - t0 < 6000);
  const missingCert = await run(hookArgs({ name: 'nocert', cert: join(dir, 'none.pem') }));
  assert.match(String(missingCert.msg), /certificate .*none.pem does not exist/);
});

// pve-manager PVE/API2/Certificates.pm `info` (this node's files only); PVE::INotify::nodename (uname, short)
test("the node a certificate path means: /etc/pve/local is this node, another node's directory is not", () => {
  assert.equal(parseNodeName('nodes/pve1\n'), 'pve1');
  assert.equal(parseNodeName('/etc/pve/nodes/pve1/'), 'pve1');
  assert.equal(parseNodeName('pve2.example.com\n'), 'pve2', 'uname -n, up to the first dot');
  assert.equal(parseNodeName('$(x)'), undefined);
  assert.deepEqual(nodeCertPath('/etc/pve/local/pveproxy-ssl.pem', 'pve1'), {
    path: '/etc/pve/nodes/pve1/pveproxy-ssl.pem',
  });
  assert.deepEqual(nodeCertPath('/etc/pve/nodes/pve1/pve-ssl.pem', 'pve1'), {
    path: '/etc/pve/nodes/pve1/pve-ssl.pem',
  });
  assert.deepEqual(nodeCertPath('/etc/pve/nodes/pve2/pve-ssl.pem', 'pve1'), { otherNode: 'pve2' });
  const listed = parsePvenodeCertInfo(JSON.stringify([{ filename: 'pve-ssl.pem', fingerprint: 'AA' }]));
  assert.equal(pvenodeEntryFor(listed, '/etc/pve/nodes/pve1/pve-ssl.pem')?.fingerprint, 'AA');
  assert.equal(pvenodeEntryFor(listed, '/etc/pve/nodes/pve1/pveproxy-ssl.pem'), undefined);
});
