// copy remote_src: true through the real CLI on the local connection (the "host" is this machine)
// (issue 15 item 7). Following lib/ansible/modules/copy.py main(): with remote_src the source is
// on the host ("Source %s not found"), a file is compared by checksum and atomically moved into
// place (module.atomic_move), mode 'preserve' takes the source's mode, backup keeps the old file,
// a directory is copied recursively (`dir` into dest/dir, `dir/` its contents into dest), and
// lib/ansible/plugins/action/copy.py passes remote_src straight to the module (nothing transferred).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

async function play(ws: Ws, yaml: string, args: string[] = []) {
  ws.write('inv.ini', localInventory(['h1']));
  ws.write('pb.yml', yaml);
  return runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml'), ...args], { cwd: ws.dir });
}

describe('copy remote_src: a file', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({ 'host/src.conf': 'line one\n' });
    chmodSync(ws.path('host/src.conf'), 0o640);
  });
  after(() => ws.cleanup());

  const pb = (ws: Ws, extra = '') => `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { src: ${ws.path('host/src.conf')}, dest: ${ws.path('out/dest.conf')}, remote_src: true, mode: preserve${extra} }
`;

  it('check mode predicts, writes nothing, and shows the diff', async () => {
    ws.write('out/.keep', '');
    const r = await play(ws, pb(ws), ['--check', '--diff']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(recap(r.stdout).h1.changed, 1);
    assert.match(r.stdout, /\+line one/);
    assert.ok(!existsSync(ws.path('out/dest.conf')));
  });

  it('copies the bytes and the mode (preserve); a second run changes nothing', async () => {
    const r = await play(ws, pb(ws));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(recap(r.stdout).h1.changed, 1);
    assert.equal(readFileSync(ws.path('out/dest.conf'), 'utf8'), 'line one\n');
    assert.equal(statSync(ws.path('out/dest.conf')).mode & 0o777, 0o640);
    const again = await play(ws, pb(ws));
    assert.equal(recap(again.stdout).h1.changed, 0, again.stdout);
  });

  it('a changed source replaces dest, keeping a backup', async () => {
    ws.write('host/src.conf', 'line two\n');
    const r = await play(ws, pb(ws, ', backup: true'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(ws.path('out/dest.conf'), 'utf8'), 'line two\n');
    const backups = readdirSync(ws.path('out')).filter((n) => n.startsWith('dest.conf.') && n.endsWith('~'));
    assert.equal(backups.length, 1, readdirSync(ws.path('out')).join(' '));
    assert.equal(readFileSync(ws.path(`out/${backups[0]}`), 'utf8'), 'line one\n');
  });

  it('a missing source fails the task with Ansible’s message; remote_src needs src', async () => {
    const r = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { src: ${ws.path('host/nothing')}, dest: ${ws.path('out/x')}, remote_src: true }
`,
    );
    assert.equal(r.code, 2);
    assert.match(r.stdout, /Source \S+host\/nothing not found/);
    const bad = await play(
      ws,
      `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { content: x, dest: /tmp/x, remote_src: true }
`,
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /remote_src needs src/);
  });
});

describe('copy remote_src: a directory', () => {
  let ws: Ws;
  before(() => {
    ws = workspace({
      'host/tree/a.txt': 'A\n',
      'host/tree/sub/b.bin': '\u0000\u0001binary',
      'host/tree/-dash name\nnewline': 'odd name\n',
    });
    chmodSync(ws.path('host/tree/a.txt'), 0o600);
  });
  after(() => ws.cleanup());

  it('`tree` goes into dest/tree, `tree/` its contents into dest; odd names and binary bytes pass; idempotent', async () => {
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { src: ${ws.path('host/tree')}, dest: ${ws.path('into')}/, remote_src: true, mode: preserve }
    - copy: { src: ${ws.path('host/tree')}/, dest: ${ws.path('contents')}/, remote_src: true }
`;
    const r = await play(ws, yaml);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(ws.path('into/tree/a.txt'), 'utf8'), 'A\n');
    assert.equal(statSync(ws.path('into/tree/a.txt')).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(ws.path('into/tree/sub/b.bin')), Buffer.from('\u0000\u0001binary'));
    assert.equal(readFileSync(ws.path('into/tree/-dash name\nnewline'), 'utf8'), 'odd name\n');
    assert.equal(readFileSync(ws.path('contents/sub/b.bin')).length, 8);
    assert.ok(existsSync(ws.path('contents/a.txt')));
    assert.equal(recap(r.stdout).h1.changed, 2);
    const again = await play(ws, yaml);
    assert.equal(recap(again.stdout).h1.changed, 0, again.stdout);
  });
});
