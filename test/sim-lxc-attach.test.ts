// The lab's lxc-attach (lab/sim/lxc-attach.ts), run directly on a seeded temp root: what
// `pct exec` execs (proxmox/pve-container src/PVE/CLI/pct.pm, method exec:
// `exec('lxc-attach', '-n', $param->{vmid}, '--', @{$param->{'extra-args'}})`), so the two
// must answer alike. lxc src/lxc/tools/lxc_attach.c main: the command's exit status (128 +
// the signal), EXIT_FAILURE when it cannot attach; lxc_container_new accepts any name, so an
// unknown CT fails like a stopped one: get_attach_context finds no init pid (src/lxc/attach.c).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SimRoot, TEMPLATE_VOL } from '../lab/testkit.js';
import { parseToolCalls } from '../lab/sim/tool-calls.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const s = new SimRoot('pve1');
after(() => s.cleanup());
const NO_INIT_PID = (id: string) =>
  new RegExp(
    `^lxc-attach: ${id}: \\S+attach\\.c: get_attach_context: \\d+ Connection refused - Failed to get init pid\\n` +
      `lxc-attach: ${id}: \\S+attach\\.c: lxc_attach: \\d+ Connection refused - Failed to get attach context\\n$`,
  );

test('lxc-attach -n <vmid> -- …: as pct exec in a running CT; a stopped or unknown CT: no init pid, exit 1', () => {
  assert.equal(s.run('pct', 'create', '101', TEMPLATE_VOL, '--hostname', 'web').rc, 0);
  for (const id of ['101', '4242']) {
    const r = s.run('lxc-attach', '-n', id, '--', 'true');
    assert.equal(r.rc, 1, `${id}: ${r.stderr}`);
    assert.match(r.stderr, NO_INIT_PID(id));
    assert.equal(r.stdout, '');
  }
  assert.equal(s.run('pct', 'start', '101').rc, 0);
  const script = 'cat /etc/hostname; read x; echo "in:$x"; echo err >&2; exit 7';
  const attach = s.runWith({ input: 'abc\n' }, 'lxc-attach', '-n', '101', '--', 'sh', '-c', script);
  const pct = s.runWith({ input: 'abc\n' }, 'pct', 'exec', '101', '--', 'sh', '-c', script);
  assert.deepEqual(attach, { rc: 7, stdout: 'web\nin:abc\n', stderr: 'err\n' });
  assert.deepEqual(pct, attach, 'pct exec is this lxc-attach');
  assert.equal(s.run('lxc-attach', '--name=101', '--', 'true').rc, 0);
  const noName = s.run('lxc-attach', '--', 'true');
  assert.equal(noName.rc, 1);
  assert.match(noName.stderr, /missing container name/);
  const other = s.run('lxc-attach', '-n', '101', '--clear-env', '--', 'true');
  assert.equal(other.rc, 1, 'an option the lab does not simulate is refused, not ignored');
});

test('the tool log keeps lxc-attach (its command hidden) apart from the Proxmox CLI programs', () => {
  const log = join(s.dir, 'calls.log');
  s.runWith({ env: { PHX_LAB_TOOL_LOG: log } }, 'lxc-attach', '-n', '101', '--', 'cat', '/etc/secret');
  s.runWith({ env: { PHX_LAB_TOOL_LOG: log } }, 'pct', 'status', '101');
  assert.deepEqual(parseToolCalls(readFileSync(log, 'utf8')), [
    ['lxc-attach', '-n', '101', '--', '…'],
    ['pct', 'status', '101'],
  ]);
});
