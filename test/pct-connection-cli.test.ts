// ansible_connection: pct through the real CLI (bin/phx-play.js): an inventory with a
// lab hypervisor and containers on it (CTs made with `pct create` first). A play on
// the CT alone (the hypervisor is not in it) converges, the second run changes
// nothing, --check --diff predicts a change and leaves the CT as it was, delegate_to
// the hypervisor runs there; a stopped CT is unreachable; a broken pct host in the
// inventory is a located error before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, workspace } from './helpers/cli.js';
import { useLabHost } from './harness/lab-fixture.js';

const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
const ROOTFS = '/var/lib/vz/images/101/subvol-101-disk-0.subvol';

const fx = useLabHost('phx-pct-conn-cli-', async ({ sh }) => {
  await sh(
    `pct create 101 ${TEMPLATE} --hostname web --unprivileged 1 >/dev/null && pct start 101 && ` +
      `pct create 102 ${TEMPLATE} --hostname down >/dev/null`,
  );
});

const PLAYBOOK = `- hosts: web
  gather_facts: false
  vars:
    greeting: hello
    body: "<h1>{{ greeting }}</h1>"
  tasks:
    - name: site directory
      file: { path: /srv/site, state: directory, owner: www-data, mode: "0755" }
    - name: index
      copy: { dest: /srv/site/index.html, content: "{{ body }}\\n", owner: www-data, mode: "0644" }
    - name: config
      template: { src: site.conf.hbs, dest: /etc/site.conf, mode: "0600" }
    - name: allow
      lineinfile: { path: /etc/hosts.allow, line: "sshd: 10.0.0.0/8", create: true }
    - name: where am I
      command: cat /etc/hostname
      register: where
      changed_when: false
    - name: index is there
      stat: { path: /srv/site/index.html }
      register: index
    - name: wait for it
      wait_for: { path: /srv/site/index.html, search_regex: "h1", timeout: 5 }
    - name: on the hypervisor
      command: pct status 101
      delegate_to: HV
      changed_when: false
    - name: marker in the CT only
      shell: echo inside > /root/marker
      args: { creates: /root/marker }
`;

function setup(): { inventory: string; playbook: string } {
  const dir = join(fx.dir, 'play');
  mkdirSync(dir, { recursive: true });
  const hv = fx.host;
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    readFileSync(fx.lab.inventoryFile, 'utf8') +
      [
        '    cts:',
        '      vars:',
        '        ansible_connection: pct',
        `        ansible_host: ${hv}`,
        '      hosts:',
        '        web: { pct_vmid: 101 }',
        '        down: { pct_vmid: 102 }',
        '',
      ].join('\n'),
  );
  writeFileSync(join(dir, 'site.conf.hbs'), 'server {{ inventory_hostname }} says {{ greeting }}\n');
  const playbook = join(dir, 'site.yml');
  writeFileSync(playbook, PLAYBOOK.replace('HV', hv));
  writeFileSync(join(dir, 'down.yml'), '- hosts: down\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
  return { inventory, playbook };
}

type Ev = Record<string, unknown>;
async function play(...args: string[]) {
  const r = await runCli(['--json', ...args]);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Ev);
  const recap = events.find((e) => e.type === 'recap')?.hosts as Record<string, Record<string, number>> | undefined;
  const result = (task: string): Ev | undefined => events.find((e) => e.type === 'host_result' && e.task === task);
  return { ...r, events, recap, result };
}
const inCt = (s: string) => fx.sh(`pct exec 101 -- sh -c '${s}'`);
const ctState = () =>
  fx.sh(
    `cd ${ROOTFS} && find srv etc/site.conf etc/hosts.allow root -printf '%y %U:%G %m %p\\n' 2>/dev/null | sort; cat srv/site/index.html etc/site.conf 2>/dev/null`,
  );

test('a play on a CT (hypervisor not in the play): converges inside the CT, second run ok, --check --diff leaves it untouched, delegate_to the hypervisor', async () => {
  const { inventory, playbook } = setup();
  const first = await play('-i', inventory, playbook);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.deepEqual(Object.keys(first.recap!), ['web'], 'only the CT is in the recap');
  assert.equal(first.recap!.web.changed, 5);
  assert.equal((first.result('where am I')!.result as Ev).stdout, 'web');
  assert.equal(((first.result('index is there')!.result as Ev).stat as Ev).pw_name, 'www-data');
  const delegated = first.result('on the hypervisor')!;
  assert.equal(delegated.delegatedTo, fx.host);
  assert.equal((delegated.result as Ev).stdout, 'status: running', 'pct ran on the hypervisor, not in the CT');
  assert.equal(
    await inCt(
      'cat /srv/site/index.html /etc/site.conf /etc/hosts.allow /root/marker; stat -c "%U %a" /srv/site/index.html',
    ),
    // a trailing newline after the expression is kept, as Ansible's Templar does (preserve_trailing_newlines)
    '<h1>hello</h1>\nserver web says hello\nsshd: 10.0.0.0/8\ninside\nwww-data 644\n',
  );
  assert.equal((await fx.exec('test -e /root/marker || test -e /srv/site')).rc, 1, 'nothing landed on the hypervisor');

  const second = await play('-i', inventory, playbook);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.recap!.web.changed, 0, 'second run changes nothing');

  const before = await ctState();
  const check = await play('-i', inventory, playbook, '--check', '--diff', '-e', 'greeting=bye');
  assert.equal(check.code, 0, check.stderr);
  assert.equal(check.recap!.web.changed, 2, 'index and config would change');
  const diff = (check.result('index')!.result as Ev).diff as Ev;
  assert.match(JSON.stringify(diff), /<h1>bye<\/h1>/);
  assert.equal(await ctState(), before, 'check mode left the CT as it was');
});

test('a stopped CT is unreachable with a clear message (exit 4), not a crash', async () => {
  const { inventory } = setup();
  const r = await play('-i', inventory, join(fx.dir, 'play', 'down.yml'));
  assert.equal(r.code, 4, r.stderr + r.stdout);
  assert.equal(r.recap!.down.unreachable, 1);
  const ev = r.events.find((e) => e.type === 'host_result' && e.host === 'down')!;
  assert.equal(ev.status, 'unreachable');
  assert.match(String((ev.result as Ev).msg), new RegExp(`down: CT 102 on ${fx.host} is not running`));
});

test('inventory errors for pct hosts: located, all at once, before anything runs', async () => {
  const ws = workspace({
    'inv.yml': [
      'all:',
      '  hosts:',
      '    pve: { ansible_host: 127.0.0.1, ansible_port: 1 }',
      '    ct1:',
      '      ansible_connection: pct',
      '      ansible_host: nowhere',
      '      pct_vmid: 101',
      '    ct2:',
      '      ansible_connection: pct',
      '      ansible_host: pve',
      '    ct3: { ansible_connection: pct, ansible_host: ct1, pct_vmid: 103 }',
      '',
    ].join('\n'),
    'badid.ini': '[cts]\nct4 ansible_connection=pct ansible_host=pve pct_vmid=99\n',
    'p.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch /tmp/should-not-run\n',
  });
  try {
    const r = await runCli(['-i', ws.path('inv.yml'), ws.path('p.yml')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /inv\.yml:6:21: host ct1: ansible_host "nowhere" is not an inventory host/);
    assert.match(r.stderr, /inv\.yml:9:27: host ct2: ansible_connection pct needs pct_vmid/);
    assert.match(r.stderr, /inv\.yml:11:51: host ct3: its hypervisor ct1 is itself a pct container/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    const bad = await runCli(['-i', ws.path('badid.ini'), ws.path('p.yml')]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /badid\.ini:2:54: pct_vmid must be a container id from 100 to 999999999, got 99/);
  } finally {
    ws.cleanup();
  }
});
