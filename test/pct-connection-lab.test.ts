// ansible_connection: pct against a lab hypervisor: the generic modules run inside
// CT 101 through the hypervisor's one reused SSH connection (`pct exec`), idempotent,
// check mode leaving the CT untouched, hostile names literal, the environment and
// the task timeout inside the CT, nothing run on the hypervisor itself; a stopped or
// missing CT is an unreachable host.
//
// The pct behaviour relied on is proxmox/pve-container src/PVE/CLI/pct.pm, method
// `exec`: `pct exec <vmid> [-- <command> [args]]` loads the CT's config first
// (PVE::LXC::Config->load_config: "Configuration file '…' does not exist"), dies
// "missing command" without one, and exec()s `lxc-attach -n <vmid> -- <command…>`,
// so the exit status is the command's and stdin/stdout/stderr are the command's.
// The connection runs that lxc-attach itself (no `pct`, a Perl program, per command):
// src/connection/pct.ts lxcAttachArgv, pinned below; lab/sim/lxc-attach.ts simulates it
// (lab/sim/pct.ts's exec runs the same code: test/sim-pve.test.ts: "pct exec returns the inner command's rc").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import command from '../modules/command.js';
import copy from '../modules/copy.js';
import file from '../modules/file.js';
import lineinfile from '../modules/lineinfile.js';
import shell from '../modules/shell.js';
import stat from '../modules/stat.js';
import template from '../modules/template.js';
import waitFor from '../modules/wait_for.js';
import { openConnection } from '../src/connection/index.js';
import { lxcAttachArgv } from '../src/connection/pct.js';
import { readToolCalls } from '../lab/sim/tool-calls.js';
import type { Connection } from '../src/connection/types.js';
import { UnreachableError } from '../src/errors.js';
import type { ModuleDefinition, ModuleResult } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { Predictions } from '../src/predictions.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const ROOTFS = '/var/lib/vz/images/101/subvol-101-disk-0.subvol';

const fx = useLabHost('phx-pct-conn-lab-', async ({ sh }) => {
  await sh(
    `pct create 101 ${TEMPLATE} --hostname web --unprivileged 1 >/dev/null && pct start 101 && ` +
      `pct create 102 ${TEMPLATE} --hostname stopped >/dev/null`,
  );
});
const { sh, exec } = fx;

/** The CT's connection, through the fixture's SSH connection to the hypervisor (counted). */
function ctConnection(vmid: number | string = 101): { conn: Connection; opened: () => number } {
  let opened = 0;
  const conn = openConnection(
    `ct${vmid}`,
    { ansible_connection: 'pct', ansible_host: fx.host, pct_vmid: vmid },
    {
      hostConnection: (name) => {
        assert.equal(name, fx.host, 'the hypervisor named by ansible_host');
        opened++;
        return Promise.resolve(fx.conn);
      },
    },
  );
  return { conn, opened: () => opened };
}

interface Run {
  check?: boolean;
  diff?: boolean;
  predicted?: Predictions;
  env?: Record<string, string>;
  timeoutMs?: number;
  become?: { user: string };
  vars?: Record<string, unknown>;
  baseDir?: string;
}

let ct: Connection | undefined;
const sent: string[] = [];
async function inCt(def: ModuleDefinition, raw: unknown, o: Run = {}): Promise<ModuleResult> {
  if (!ct) {
    ct = ctConnection().conn;
    await ct.connect();
  }
  const ctx = createModuleContext({ host: 'ct101', conn: ct, onCommand: (c) => sent.push(c), ...o });
  return runModule(def, def.args.parse(raw), ctx);
}
/** A command in the CT, for assertions (not through the connection under test). */
const inside = (script: string) => sh(`pct exec 101 -- sh -c '${script.replace(/'/g, `'\\''`)}'`);
const snapshot = () =>
  sh(
    `cd ${ROOTFS} && find srv etc/app* -printf '%y %U:%G %m %p\\n' 2>/dev/null | sort; find srv -type f -exec md5sum {} + | sort`,
  );

test('command runs inside the CT (its hostname, its root), never on the hypervisor; one connect for the host', async () => {
  const { conn, opened } = ctConnection();
  await conn.connect();
  await conn.connect();
  assert.equal(opened(), 1, 'the hypervisor connection is asked for once');
  assert.equal(conn.kind, 'pct');
  const ctx = createModuleContext({ host: 'ct101', conn });
  const r = await runModule(command, command.args.parse({ cmd: 'touch /root/ran-here' }), ctx);
  assert.notEqual(r.failed, true, String(r.msg));
  assert.equal((await inside('cat /etc/hostname; id -u')).trim(), 'web\n0');
  assert.equal((await exec('test -e /root/ran-here')).rc, 1, 'not on the hypervisor');
  assert.equal((await inside('test -e /root/ran-here && echo yes')).trim(), 'yes');
  const rc = await runModule(command, command.args.parse({ cmd: 'sh -c "exit 7"' }), ctx);
  assert.equal(rc.rc, 7, "pct exec passes the command's exit status");
  await conn.close();
  assert.equal(
    (await fx.conn.exec('echo still')).stdout,
    'still\n',
    "closing the CT's connection leaves the hypervisor's open",
  );
});

test('copy/template/file/lineinfile/command idempotent in the CT; check mode (with diff) leaves it untouched and predicts the run', async () => {
  const ctrl = join(fx.dir, 'ctrl');
  mkdirSync(ctrl, { recursive: true });
  writeFileSync(join(ctrl, 'app.conf.hbs'), 'name = {{ name }}\nsecret = {{ secret }}\n');
  const vars = { name: 'web <1>', secret: `$(touch /tmp/phx-pwned) 'q"` };
  const tasks: Array<[ModuleDefinition, unknown, Run?]> = [
    [file, { path: '/srv/app', state: 'directory', owner: 'www-data', mode: '0750' }],
    [copy, { dest: '/srv/app/config.ini', content: 'a = 1\n', owner: 'www-data', group: 'www-data', mode: '0640' }],
    [template, { src: 'app.conf.hbs', dest: '/etc/app.conf', mode: '0600' }, { vars, baseDir: ctrl }],
    [lineinfile, { path: '/srv/app/extra.conf', regexp: '^b =', line: 'b = 2', create: true }],
    [command, { cmd: 'touch /srv/app/ran', creates: '/srv/app/ran' }],
    [file, { path: '/srv/app/link', state: 'link', src: '/srv/app/config.ini' }],
  ];
  const before = await snapshot();
  const predicted = new Predictions();
  const checked: ModuleResult[] = [];
  for (const [def, args, o] of tasks) {
    const r = await inCt(def, args, { ...o, check: true, diff: true, predicted });
    assert.notEqual(r.failed, true, `${def.name} (check): ${String(r.msg)}`);
    assert.equal(r.changed, true, `${def.name} would change`);
    checked.push(r);
  }
  assert.equal(await snapshot(), before, 'check mode left the CT byte-identical');
  assert.equal((await exec(`test -e ${ROOTFS}/srv/app`)).rc, 1);

  for (const [i, [def, args, o]] of tasks.entries()) {
    const r = await inCt(def, args, { ...o, diff: true });
    assert.notEqual(r.failed, true, `${def.name}: ${String(r.msg)}`);
    assert.equal(r.changed, true, def.name);
    if (def !== command) assert.deepEqual(comparable(r), comparable(checked[i]), `check predicted ${def.name}`);
  }
  assert.equal(
    await inside(
      'stat -c "%U:%G %a" /srv/app /srv/app/config.ini /etc/app.conf; cat /srv/app/config.ini /srv/app/extra.conf /etc/app.conf; readlink /srv/app/link',
    ),
    `www-data:root 750\nwww-data:www-data 640\nroot:root 600\na = 1\nb = 2\nname = web <1>\nsecret = ${vars.secret}\n/srv/app/config.ini\n`,
  );
  // root in the unprivileged CT is uid 100000 on the hypervisor: the writes happened inside
  assert.equal(
    await sh(`stat -c '%u:%g' ${ROOTFS}/etc/app.conf ${ROOTFS}/srv/app/config.ini`),
    '100000:100000\n100033:100033\n',
  );
  assert.equal((await inside('test -e /tmp/phx-pwned || echo clean')).trim(), 'clean');

  for (const [def, args, o] of tasks) {
    const again = await inCt(def, args, o);
    assert.notEqual(again.failed, true, `${def.name} again: ${String(again.msg)}`);
    assert.equal(again.changed, false, `${def.name} is idempotent`);
  }
  const st = await inCt(stat, { path: '/srv/app/config.ini' });
  assert.deepEqual(
    [(st.stat as Record<string, unknown>).pw_name, (st.stat as Record<string, unknown>).mode],
    ['www-data', '0640'],
  );
  // an existing path's owner and mode change through src/remote/no-follow.ts (perl) inside the CT
  const tighten = await inCt(file, { path: '/srv/app/config.ini', owner: 'root', mode: '0600' });
  assert.equal(tighten.changed, true, String(tighten.msg));
  assert.equal(await inside('stat -c "%U:%G %a" /srv/app/config.ini'), 'root:www-data 600\n');
  const wait = await inCt(waitFor, { path: '/srv/app/ran', timeout: 5 });
  assert.notEqual(wait.failed, true, String(wait.msg));
  assert.ok(!sent.some((c) => /\bsudo\b/.test(c)), 'no sudo');
});

test('hostile names (spaces, quotes, newline, leading dash, $(...)) are taken literally inside the CT', async () => {
  assert.equal((await inCt(file, { path: '/srv/h', state: 'directory' })).changed, true);
  const names = ['a b', `it's "q"`, 'new\nline', '-rf', '$(touch pwned)', '`touch pwned`;x'];
  for (const n of names) {
    const path = `/srv/h/${n}`;
    const r = await inCt(copy, { dest: path, content: `${n}\n`, mode: '0600' });
    assert.equal(r.changed, true, `${JSON.stringify(n)}: ${String(r.msg)}`);
    assert.equal((await inCt(copy, { dest: path, content: `${n}\n`, mode: '0600' })).changed, false);
    const line = await inCt(lineinfile, { path, line: 'more', insertafter: 'EOF' });
    assert.equal(line.changed, true, String(line.msg));
    const dir = await inCt(file, { path: `/srv/h/d ${n}`, state: 'directory' });
    assert.equal(dir.changed, true, String(dir.msg));
  }
  const listed = await sh(
    `cd ${ROOTFS}/srv/h && for f in *; do printf '%s|' "$f"; cat "./$f" 2>/dev/null | tr '\\n' '/'; echo; done`,
  );
  const want = [...names, ...names.map((n) => `d ${n}`)].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  assert.equal(listed.split('\n').filter((l) => l.includes('|')).length, want.length, listed);
  for (const n of names)
    assert.ok(listed.includes(`${n}|${n.replace(/\n/g, '/')}/more/`), `${JSON.stringify(n)} in\n${listed}`);
  const pwned = ['/root/pwned', '/pwned', `${ROOTFS}/pwned`, `${ROOTFS}/root/pwned`, `${ROOTFS}/srv/h/pwned`];
  assert.equal((await exec(pwned.map((p) => `test -e ${p}`).join(' || '))).rc, 1, 'nothing ran');

  // putFile/getFile: the same names, binary content, a missing file
  const c = ctConnection().conn;
  await c.connect();
  const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 39, 36]);
  for (const n of names) {
    await c.putFile(`/srv/h/p ${n}`, bytes, { mode: 0o600 });
    assert.deepEqual(await c.getFile(`/srv/h/p ${n}`), bytes);
  }
  assert.equal(await c.getFile('/srv/h/none'), null);
  assert.equal(await sh(`stat -c %a "${ROOTFS}/srv/h/p -rf"`), '600\n');
});

test("the environment travels on the CT command's stdin (never in an argv), with the command's own stdin after it", async () => {
  const value = `s3cr3t 'q' $(id) \`x\``;
  const r = await inCt(shell, { cmd: 'printf "%s|" "$PHX_T"; cat', stdin: 'own input' }, { env: { PHX_T: value } });
  assert.equal(r.stdout, `${value}|own input`);
  assert.ok(!sent.some((c) => c.includes('s3cr3t')), 'the value is on no command line');
});

test("each command is pct exec's own lxc-attach line (pct.pm exec), and starts no pct on the hypervisor", async () => {
  // pve-container src/PVE/CLI/pct.pm, method exec: exec('lxc-attach', '-n', $param->{vmid}, '--', @{$param->{'extra-args'}})
  assert.deepEqual(lxcAttachArgv(101, ['sh', '-c', 'id']), ['lxc-attach', '-n', '101', '--', 'sh', '-c', 'id']);
  const root = fx.lab.hosts[0].root;
  const before = readToolCalls(root).length;
  const { conn } = ctConnection();
  await conn.connect();
  const r = await conn.exec('cat /etc/hostname');
  assert.equal(r.stdout, 'web\n');
  await conn.putFile('/root/via-attach', Buffer.from('x'));
  assert.deepEqual(await conn.getFile('/root/via-attach'), Buffer.from('x'));
  const calls = readToolCalls(root).slice(before);
  assert.deepEqual(
    calls.filter((c) => c[0] !== 'lxc-attach'),
    [],
    'no pct (nor any Proxmox CLI program) for connecting and three commands',
  );
  assert.deepEqual(
    calls,
    Array.from({ length: 3 }, () => ['lxc-attach', '-n', '101', '--', '…']),
  );
});

test('a task timeout kills the command inside the CT', async () => {
  const r = await inCt(shell, { cmd: 'sleep 127; touch /root/late' }, { timeoutMs: 1500 }).catch((e: Error) => e);
  assert.ok(r instanceof Error || r.failed, 'the task fails');
  // bounded: the CT's `timeout -s KILL` ended the sleep (its processes are visible from the hypervisor)
  let left = '';
  for (let i = 0; i < 50; i++) {
    left = (await exec('pgrep -f "^sleep 127$" || true')).stdout.trim();
    if (left === '') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(left, '', 'no sleep left running');
  assert.equal((await inside('test -e /root/late || echo none')).trim(), 'none');
});

test('become root is not sudo in the CT; the command still runs as root there', async () => {
  const n = sent.length;
  const r = await inCt(command, { cmd: 'id -u' }, { become: { user: 'root' } });
  assert.equal(r.stdout, '0', String(r.msg));
  assert.ok(!sent.slice(n).some((c) => /\bsudo\b/.test(c)));
});

test('a stopped CT, a missing CT: unreachable with a clear message, nothing run', async () => {
  const stopped = ctConnection(102).conn;
  await assert.rejects(stopped.connect(), (e: Error) => {
    assert.ok(e instanceof UnreachableError, String(e));
    assert.match(e.message, new RegExp(`^ct102: CT 102 on ${fx.host} is not running \\(status stopped\\)$`));
    return true;
  });
  const missing = ctConnection(4242).conn;
  await assert.rejects(missing.connect(), (e: Error) => {
    assert.ok(e instanceof UnreachableError, String(e));
    assert.match(
      e.message,
      /^ct4242: cannot use CT 4242 on \S+: Configuration file 'nodes\/\S+\/lxc\/4242\.conf' does not exist$/,
    );
    return true;
  });
  // a CT stopped after connecting: the next command is unreachable, not a failed command
  await sh('pct start 102');
  const later = ctConnection(102).conn;
  await later.connect();
  await sh('pct stop 102');
  await assert.rejects(
    later.exec('true'),
    (e: Error) => e instanceof UnreachableError && /cannot be entered/.test(e.message),
  );
  assert.throws(
    () => openConnection('ct', { ansible_connection: 'pct', ansible_host: fx.host, pct_vmid: 99 }, {}),
    /pct_vmid: the container's id \(100-999999999\), got 99/,
  );
});
