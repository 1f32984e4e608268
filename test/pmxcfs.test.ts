// /etc/pve is pmxcfs (proxmox/pve-cluster src/pmxcfs/pmxcfs.c): cfs_fuse_getattr
// shows uid 0, gid www-data, dirs 0755 / files 0640 (0700/0600 where
// cfs-utils.c path_is_private says priv/); cfs_fuse_chmod accepts only
// 0640/0600 (EPERM otherwise), cfs_fuse_chown only root:www-data. The modules
// refuse at plan time what pmxcfs would refuse (or silently not show), and
// send nothing; what pmxcfs already shows is accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMode } from '../src/remote/mode.js';
import { pmxcfsMode, pmxcfsRefusal, underPmxcfs } from '../src/remote/pmxcfs.js';
import filePerm, { parseFindOutput, plan, type FilePermFacts } from '../modules/file_perm.js';
import file from '../modules/file.js';
import copy from '../modules/copy.js';
import template from '../modules/template.js';
import lineinfile from '../modules/lineinfile.js';
import { run } from './modules-harness.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('which paths are pmxcfs and private, and the modes pmxcfs shows', () => {
  for (const p of ['/etc/pve', '/etc/pve/', '/etc/pve/storage.cfg', '/etc/pve//lxc/105.conf', '/etc/pve/a/../b'])
    assert.equal(underPmxcfs(p), true, p);
  for (const p of ['/etc/pvefoo', '/etc/pve-x/a', '/etc', '/root/etc/pve', '/etc/pve/../passwd'])
    assert.equal(underPmxcfs(p), false, p);
  assert.equal(pmxcfsMode('/etc/pve/storage.cfg', false), 0o640);
  assert.equal(pmxcfsMode('/etc/pve/nodes', true), 0o755);
  assert.equal(pmxcfsMode('/etc/pve/priv/authkey.key', false), 0o600);
  assert.equal(pmxcfsMode('/etc/pve/priv', true), 0o700);
  assert.equal(pmxcfsMode('/etc/pve/nodes/pve1/priv/x', false), 0o600);
  assert.equal(pmxcfsMode('/etc/pve/local/priv/x', false), 0o600);
  assert.equal(pmxcfsMode('/etc/pve/nodes/pve1/pveproxy-ssl.key', false), 0o640);
  assert.equal(pmxcfsMode('/etc/pve/privx', false), 0o640);
});

test('pmxcfsRefusal: only what pmxcfs keeps is accepted', () => {
  const f = '/etc/pve/nodes/pve1/pveproxy-ssl.key';
  const ok = [
    { owner: 'root', group: 'www-data', mode: parseMode('0640') },
    { owner: 0, group: 33 },
    { mode: parseMode('u=rw,g=r,o=') },
    { mode: parseMode('g-w') },
  ];
  for (const w of ok) assert.equal(pmxcfsRefusal(f, { ...w, isDir: false }), undefined, JSON.stringify(w));
  assert.match(String(pmxcfsRefusal(f, { mode: parseMode('0644'), isDir: false })), /mode 0640 .*0644 wanted/);
  assert.match(String(pmxcfsRefusal(f, { owner: 'nobody', isDir: false })), /root:www-data/);
  assert.match(String(pmxcfsRefusal(f, { group: 'root', isDir: false })), /root:www-data/);
  assert.match(String(pmxcfsRefusal('/etc/pve/priv/x', { mode: parseMode('0640'), isDir: false })), /mode 0600/);
  // a directory shows 0755 but only chmod 0640 is accepted (and changes nothing): 0755 is the only reachable mode
  assert.equal(pmxcfsRefusal('/etc/pve/firewall', { mode: parseMode('0755'), isDir: true }), undefined);
  assert.match(String(pmxcfsRefusal('/etc/pve/firewall', { mode: parseMode('0750'), isDir: true })), /mode 0755/);
  assert.equal(pmxcfsRefusal('/tank/x', { owner: 'nobody', mode: parseMode('0777'), isDir: true }), undefined);
});

const facts = (find: string): FilePermFacts => ({
  entries: parseFindOutput(find),
  users: {},
  groups: {},
  cts: {},
  ctErrors: {},
});

test('file_perm under /etc/pve: a differing wanted value is refused, nothing planned; what pmxcfs shows is ok', () => {
  const f = { ...facts('f 0 33 640 /etc/pve/storage.cfg\0'), users: { root: 0 }, groups: { 'www-data': 33 } };
  const args = (a: Record<string, unknown>) => filePerm.args.parse({ path: '/etc/pve/storage.cfg', ...a });
  const bad = plan(f, args({ mode: '0644' }));
  assert.deepEqual(bad.changes, []);
  assert.match(String(bad.fail), /is on pmxcfs .*mode 0640/);
  assert.match(String(plan(f, args({ owner: 100000 })).fail), /root:www-data/);
  const same = plan(f, args({ owner: 'root', group: 'www-data', mode: '0640' }));
  assert.equal(same.fail, undefined);
  assert.deepEqual(same.changes, []);
  // a tree reaching into /etc/pve from above is refused too
  const tree = facts('d 0 0 755 /etc\0f 0 0 644 /etc/a\0d 0 33 755 /etc/pve\0f 0 33 640 /etc/pve/x\0');
  assert.match(
    String(plan(tree, filePerm.args.parse({ path: '/etc', recurse: true, file_mode: '0644' })).fail),
    /\/etc\/pve\/x is on pmxcfs/,
  );
});

test('file, copy, template, lineinfile: a mode/owner pmxcfs refuses fails before any change is sent', async () => {
  const tpl = join(mkdtempSync(join(tmpdir(), 'phx-pmxcfs-')), 'jobs.cfg.j2');
  writeFileSync(tpl, 'vzdump: backup-1\n');
  const cases: Array<[Parameters<typeof run>[0], Record<string, unknown>]> = [
    [file, { path: '/etc/pve/firewall/cluster.fw', state: 'file', mode: '0600' }],
    [file, { path: '/etc/pve/firewall', state: 'directory', owner: 'nobody' }],
    [copy, { dest: '/etc/pve/datacenter.cfg', content: 'keyboard: en-us\n', mode: '0644' }],
    [template, { dest: '/etc/pve/jobs.cfg', src: tpl, group: 'root' }],
    [lineinfile, { path: '/etc/pve/datacenter.cfg', line: 'keyboard: de', mode: '0600', create: true }],
  ];
  for (const [mod, a] of cases) {
    const r = await run(mod, a);
    assert.equal(r.result.failed, true, `${mod.name}: ${String(r.result.msg)}`);
    assert.match(String(r.result.msg), /is on pmxcfs \(\/etc\/pve/, mod.name);
    assert.ok(r.roundTrips <= 1, `${mod.name}: facts only, ${r.commands.join('\n')}`);
  }
});
