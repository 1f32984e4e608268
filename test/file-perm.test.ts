// file_perm: planner on recorded facts, and real runs on real files through a
// local connection (chown/chmod of a temp tree; we run as root).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  writeFileSync,
  chmodSync,
  statSync,
  readdirSync,
  rmSync,
  existsSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import filePerm, { parseFindOutput, plan, type FilePermFacts } from '../modules/file_perm.js';
import { parsePctConfig } from '../src/proxmox/pct-config.js';
import { noFollowArgv, plainCommand } from '../src/remote/no-follow.js';
import { LocalConnection } from '../src/connection/local.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { containerSlot, datasetSlot, pathSlot, predictionRecord, Predictions } from '../src/predictions.js';

const args = (a: Record<string, unknown>) => filePerm.args.parse(a);
/** plan as check mode runs it: the predictions of earlier tasks overlaid on the facts */
const checkPlan = (f: FilePermFacts, a: ReturnType<typeof args>, predicted: Predictions) =>
  plan(filePerm.overlay!(f, a, predicted), a);
const facts = (entries: FilePermFacts['entries'], extra: Partial<FilePermFacts> = {}): FilePermFacts => ({
  entries,
  users: {},
  groups: {},
  cts: {},
  ctErrors: {},
  ...extra,
});

test('find -printf records parse, including spaces and newlines in names', () => {
  const out =
    'd 0 0 755 /tank/x\0f 100000 100000 660 /tank/x/a b\0f 0 0 4755 /tank/x/new\nline\0l 0 0 777 /tank/x/link\0';
  assert.deepEqual(parseFindOutput(out), [
    { type: 'd', uid: 0, gid: 0, mode: 0o755, path: '/tank/x' },
    { type: 'f', uid: 100000, gid: 100000, mode: 0o660, path: '/tank/x/a b' },
    { type: 'f', uid: 0, gid: 0, mode: 0o4755, path: '/tank/x/new\nline' },
    { type: 'l', uid: 0, gid: 0, mode: 0o777, path: '/tank/x/link' },
  ]);
});

test('recurse with dir_mode/file_mode: only differing entries, batched, counted; symlinks left alone', () => {
  const f = facts(
    parseFindOutput(
      'd 0 0 755 /v\0d 100000 100000 770 /v/ok\0f 0 0 644 /v/a\0f 100000 100000 660 /v/ok/b\0f 100000 0 660 /v/-dash\0l 0 0 777 /v/l\0',
    ),
  );
  const p = plan(
    f,
    args({ path: '/v', recurse: true, owner: 100000, group: 100000, dir_mode: '0770', file_mode: '660' }),
  );
  assert.deepEqual(
    p.changes.map((c) => plainCommand(c.argv!)),
    [
      ['chown', '100000:100000', '--', '/v', '/v/a'],
      ['chown', ':100000', '--', '/v/-dash'],
      ['chmod', '0770', '--', '/v'],
      ['chmod', '0660', '--', '/v/a'],
    ],
  );
  assert.deepEqual(
    p.changes[0].argv,
    noFollowArgv('/v', 'chown', '100000:100000', ['/v', '/v/a']),
    'never through a link',
  );
  assert.equal((p.result as Record<string, unknown>).changed_entries, 3);
  assert.equal((p.result as Record<string, unknown>).entries, 5);
  const diff = p.diff as { before: string; after: string };
  assert.match(diff.before, /^d 0:0 0755 \/v$/m);
  assert.match(diff.after, /^d 100000:100000 0770 \/v$/m);
});

test('diff lists the first 20 changed entries', () => {
  const recs = Array.from({ length: 25 }, (_, i) => `f 0 0 600 /v/f${i}\0`).join('');
  const p = plan(
    facts(parseFindOutput(`d 0 0 755 /v\0${recs}`)),
    args({ path: '/v', recurse: true, file_mode: '0644' }),
  );
  const diff = p.diff as { before: string; after: string };
  assert.equal(diff.before.trim().split('\n').length, 21);
  assert.match(diff.before, /… and 5 more/);
  assert.equal((p.result as Record<string, unknown>).changed_entries, 25);
});

test('container_root: default unprivileged, privileged, custom idmap, missing CT, predicted in check mode', () => {
  const e = facts(parseFindOutput('d 0 0 755 /v\0'));
  const owner = { container_root: 105 };
  const with105 = (text: string) => ({ ...e, cts: { '105': parsePctConfig(text) } });
  const chownOf = (p: ReturnType<typeof plan>) =>
    p.changes.map((c) => plainCommand(c.argv!)).find((argv) => argv[0] === 'chown')?.[1];
  assert.equal(chownOf(plan(with105('unprivileged: 1\n'), args({ path: '/v', owner, group: owner }))), '100000:100000');
  assert.equal(
    plan(with105('hostname: x\n'), args({ path: '/v', owner, group: owner })).changes.length,
    0,
    'privileged root is 0:0',
  );
  assert.equal(
    chownOf(
      plan(
        with105('unprivileged: 1\nlxc.idmap: u 0 200000 65536\nlxc.idmap: g 0 300000 65536\n'),
        args({ path: '/v', owner, group: owner }),
      ),
    ),
    '200000:300000',
  );
  const missing = plan({ ...e, cts: { '105': null } }, args({ path: '/v', owner }));
  assert.match(missing.fail!, /CT 105 does not exist/);
  const predicted = Predictions.of([
    containerSlot.entry(105, { config: parsePctConfig('unprivileged: 1\n'), status: 'stopped' }),
  ]);
  const checked = checkPlan({ ...e, cts: { '105': null } }, args({ path: '/v', owner }), predicted);
  assert.equal(checked.fail, undefined);
  assert.equal(chownOf(checked), '100000');
});

test('names resolve from the host; unknown names, missing paths and wrong types fail clearly', () => {
  const e = facts(parseFindOutput('f 0 0 644 /v\0'), { users: { www: 33, ghost: null }, groups: { www: 33 } });
  assert.deepEqual(
    plan(e, args({ path: '/v', owner: 'www', group: 'www' })).changes.map((c) => plainCommand(c.argv!))[0],
    ['chown', '33:33', '--', '/v'],
  );
  assert.match(plan(e, args({ path: '/v', owner: 'ghost' })).fail!, /user "ghost" does not exist/);
  assert.match(plan(e, args({ path: '/v', state: 'directory', mode: '0755' })).fail!, /not a directory/);
  assert.match(plan(facts(null), args({ path: '/v', mode: '0755' })).fail!, /does not exist/);
  const mk = plan(facts(null), args({ path: '/v', state: 'directory', owner: 5, mode: '0750' }));
  assert.deepEqual(
    mk.changes.map((c) => plainCommand(c.argv!)),
    [
      ['mkdir', '-p', '--', '/v'],
      ['chown', '5', '--', '/v'],
      ['chmod', '0750', '--', '/v'],
    ],
  );
});

test('check mode: a path an earlier task would create (path:/zfs: predictions) is planned against; the result is predicted as path:<p>', () => {
  const a = args({ path: '/tank/shared/x/', state: 'exists', owner: 100000, mode: '0770' });
  assert.match(plan(facts(null), a).fail!, /does not exist/);
  const zfs = Predictions.of([
    datasetSlot.entry('tank/shared/x', { exists: true, properties: {}, mountpoint: '/tank/shared/x' }),
  ]);
  const p = checkPlan(facts(null), a, zfs);
  assert.equal(p.fail, undefined);
  assert.deepEqual(
    p.changes.map((c) => plainCommand(c.argv!)),
    [
      ['chown', '100000', '--', '/tank/shared/x/'],
      ['chmod', '0770', '--', '/tank/shared/x/'],
    ],
  );
  assert.deepEqual(predictionRecord(p.predict), {
    'path:/tank/shared/x': { exists: true, type: 'directory', uid: 100000, gid: 0, mode: 0o770 },
  });
  const fromFile = Predictions.of([
    pathSlot.entry('/tank/shared/x', { exists: true, type: 'directory', uid: 100000, gid: 0, mode: 0o770 }),
  ]);
  assert.equal(checkPlan(facts(null), a, fromFile).changes.length, 0, 'already as wanted by the earlier task');
});

test('bad arguments', () => {
  const bad = (a: Record<string, unknown>) => {
    const r = filePerm.args.safeParse(a);
    assert.ok(!r.success, JSON.stringify(a));
    return r.error.issues.map((i) => i.message).join('\n');
  };
  assert.match(bad({ path: 'rel', mode: '0644' }), /absolute/);
  assert.match(bad({ path: '/x', mode: 'rwx' }), /not an octal mode/);
  assert.match(bad({ path: '/x', mode: 99999 }), /not an octal mode/);
  assert.match(bad({ path: '/x', dir_mode: 770 }), /mode 770 is the decimal number 770 \(= 01402\).*'0770'/);
  assert.equal(filePerm.args.parse({ path: '/x', mode: 0o640 }).mode, 0o640, "YAML's 0640 (the number 416) is fine");
  assert.match(bad({ path: '/x' }), /nothing to do/);
  assert.match(bad({ path: '/x', owner: { container_root: 5 } }), /CT ids start at 100/);
  assert.match(bad({ path: '/x', owner: 'a b' }), /name or number/);
  assert.match(bad({ path: '/x', mode: '0644', follow: true }), /follow/);
});

// ---------------------------------------------------------------- real files

const root = mkdtempSync(join(tmpdir(), 'phx-file-perm-'));
after(() => rmSync(root, { recursive: true, force: true }));
const conn = new LocalConnection();

function makeTree(dir: string): void {
  mkdirSync(join(dir, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'a.txt'), 'a');
  writeFileSync(join(dir, '-rf'), 'dash');
  writeFileSync(join(dir, 'sub', '$(touch pwned) x'), 'hostile');
  writeFileSync(join(dir, 'sub', "it's\nnew"), 'newline');
  writeFileSync(join(dir, 'sub', 'deep', 'b'), 'b');
  for (const p of ['a.txt', '-rf', 'sub/$(touch pwned) x', "sub/it's\nnew", 'sub/deep/b'])
    chmodSync(join(dir, p), 0o600);
  for (const p of ['', 'sub', 'sub/deep']) chmodSync(join(dir, p), 0o700);
}

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const s = lstatSync(p);
    out.push(`${p} ${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`);
    if (s.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
  };
  walk(dir);
  return out;
}

const run = (a: Record<string, unknown>, check = false, predicted = new Predictions()) =>
  runModule(
    filePerm,
    filePerm.args.parse(a),
    createModuleContext({ host: 'local', conn, check, diff: true, predicted }),
  );

test('real tree: first run changes every differing entry, second run ok, check mode predicts and touches nothing', async () => {
  const want = (dir: string) => ({
    path: dir,
    recurse: true,
    owner: 100000,
    group: 100000,
    dir_mode: '0770',
    file_mode: '0660',
  });
  const checkDir = join(root, 'check');
  makeTree(checkDir);
  const before = snapshot(checkDir);
  const predicted = await run(want(checkDir), true);
  assert.equal(predicted.changed, true);
  assert.equal(predicted.failed, undefined);
  assert.deepEqual(snapshot(checkDir), before, 'check mode changed nothing');

  const dir = join(root, 'real');
  makeTree(dir);
  const first = await run(want(dir));
  assert.equal(first.failed, undefined, String(first.msg));
  assert.equal(first.changed, true);
  assert.equal(first.changed_entries, 8);
  assert.equal(predicted.changed_entries, first.changed_entries);
  assert.equal(predicted.msg, String(first.msg).replace(dir, checkDir));
  assert.ok(first.diff);
  for (const line of snapshot(dir)) {
    const isDir = statSync(line.split(' ').slice(0, -2).join(' ')).isDirectory();
    assert.match(line, isDir ? / 100000:100000 770$/ : / 100000:100000 660$/);
  }
  assert.ok(
    !existsSync(join(process.cwd(), 'pwned')) && !existsSync(join(dir, 'sub', 'pwned')),
    'hostile names stayed data',
  );
  const second = await run(want(dir));
  assert.equal(second.changed, false);
  assert.equal(second.changed_entries, 0);

  // one entry drifts: only it is fixed
  chmodSync(join(dir, 'sub', 'deep', 'b'), 0o644);
  const third = await run(want(dir));
  assert.equal(third.changed_entries, 1);
});

test('real: state directory creates it; exists on a missing path fails; container_root from the check-mode prediction', async () => {
  const dir = join(root, 'made', 'x y');
  const r = await run({ path: dir, state: 'directory', owner: 0, group: 0, mode: '0751' });
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(statSync(dir).mode & 0o7777, 0o751);
  assert.equal((await run({ path: dir, state: 'directory', owner: 0, group: 0, mode: '0751' })).changed, false);
  const missing = await run({ path: join(root, 'nope'), mode: '0644' });
  assert.equal(missing.failed, true);
  assert.match(String(missing.msg), /does not exist/);

  const predicted = Predictions.of([
    containerSlot.entry(105, { config: parsePctConfig('unprivileged: 1\n'), status: 'stopped' }),
  ]);
  const chk = await run({ path: dir, owner: { container_root: 105 }, group: { container_root: 105 } }, true, predicted);
  assert.equal(chk.failed, undefined, String(chk.msg));
  assert.equal(chk.changed, true);
  assert.equal(chk.uid, 100000);
  assert.equal(statSync(dir).uid, 0, 'check mode did not chown');
});
