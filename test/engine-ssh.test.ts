// The executor over real OpenSSH servers on loopback: one reused connection
// per host, 10 hosts at once, a host that is down, a host that dies mid-play.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { generateKeyPair, startSshd, stopAllSshd, type SshdHandle } from '../lab/sshd.js';
import { binPath, recap, runCli, workspace } from './helpers/cli.js';

describe('engine over SSH', () => {
  let ws: ReturnType<typeof workspace>;
  let hosts: SshdHandle[] = [];
  let key: string;

  before(async () => {
    ws = workspace();
    const pair = await generateKeyPair(ws.path('id_ed25519'));
    key = pair.privatePath;
    hosts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => startSshd({ dir: ws.path(`sshd${i}`), authorizedKeys: [pair.publicKey] })),
    );
    ws.write('known_hosts', hosts.map((h) => h.knownHostsLine()).join('\n') + '\n');
    const lines = hosts.map((h, i) => `node${i} ansible_host=127.0.0.1 ansible_port=${h.port}`);
    ws.write(
      'inv.ini',
      `[pve]\n${lines.join('\n')}\n[pve:vars]\nansible_user=root\nansible_ssh_private_key_file=${key}\nansible_ssh_known_hosts_file=${ws.path('known_hosts')}\n`,
    );
  });
  after(async () => {
    await stopAllSshd();
    ws.cleanup();
  });

  it('runs on 10 hosts in parallel over one reused connection per host', async () => {
    ws.write(
      'pb.yml',
      `
- hosts: pve
  gather_facts: false
  tasks:
    - shell: echo "$SSH_CONNECTION"
      register: first
    - file: { path: "${ws.path('out')}/{{ inventory_hostname }}", state: directory }
    - copy: { dest: "${ws.path('out')}/{{ inventory_hostname }}/f", content: "x" }
    - shell: echo "$SSH_CONNECTION"
      register: last
    - assert: { that: "first.stdout == last.stdout" }
`,
    );
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir, env: { HOME: ws.dir } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const counters = recap(r.stdout);
    assert.equal(Object.keys(counters).length, 10);
    for (const c of Object.values(counters)) assert.deepEqual([c.ok, c.changed, c.failed, c.unreachable], [5, 4, 0, 0]);
    for (let i = 0; i < 10; i++) assert.equal(readFileSync(ws.path(`out/node${i}/f`), 'utf8'), 'x');
  });

  it('an unknown host key is refused: unreachable, exit 4, with the fingerprint', async () => {
    ws.write('empty_known_hosts', '');
    ws.write('pb.yml', `- hosts: node0\n  gather_facts: false\n  tasks:\n    - command: touch ${ws.path('never')}\n`);
    const r = await runCli(
      [
        '-i',
        ws.path('inv.ini'),
        '-e',
        `ansible_ssh_known_hosts_file=${ws.path('empty_known_hosts')}`,
        ws.path('pb.yml'),
      ],
      { cwd: ws.dir, env: { HOME: ws.dir } },
    );
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /UNREACHABLE!.*SHA256:/);
    assert.ok(!existsSync(ws.path('never')));
  });

  it('a host that is down is unreachable; the others go on; exit 4', async () => {
    ws.write(
      'inv-down.ini',
      readFileSync(ws.path('inv.ini'), 'utf8').replace(`ansible_port=${hosts[3].port}`, 'ansible_port=1'),
    );
    ws.write('pb.yml', `- hosts: pve\n  gather_facts: false\n  tasks:\n    - command: "true"\n    - command: "true"\n`);
    const r = await runCli(['-i', ws.path('inv-down.ini'), ws.path('pb.yml')], { cwd: ws.dir, env: { HOME: ws.dir } });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const c = recap(r.stdout);
    assert.equal(c.node3.unreachable, 1);
    assert.equal(c.node3.ok, 0);
    assert.equal(c.node4.ok, 2);
  });

  it('a host whose sshd dies mid-play: the others finish, exit 4', async () => {
    ws.write(
      'pb.yml',
      `
- hosts: node0,node1,node2
  gather_facts: false
  tasks:
    - command: "true"
    - command: sleep 2
    - command: touch ${ws.path('finished')}-{{ inventory_hostname }}
`,
    );
    const child = spawn(process.execPath, [binPath, '-i', ws.path('inv.ini'), ws.path('pb.yml')], {
      cwd: ws.dir,
      env: { ...process.env, HOME: ws.dir, CI: '1', NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // wait until the sleep task is running everywhere, then kill node1's sshd and its sessions
    while (!out.includes('TASK [command]') || (out.match(/TASK \[command\]/g) ?? []).length < 2)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    await hosts[1].kill();
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)));
    assert.equal(code, 4, out);
    const c = recap(out);
    assert.equal(c.node1.unreachable, 1);
    assert.ok(existsSync(ws.path('finished-node0')) && existsSync(ws.path('finished-node2')));
    assert.ok(!existsSync(ws.path('finished-node1')));
  });
});
