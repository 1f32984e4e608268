// A 3-host lab in a temp dir, driven over real SSH (system ssh client with the
// lab's key and known_hosts): isolation, state kept across down/up, no process
// left after down, faults, reset.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLab, labStatus, type Lab } from '../lab/index.js';
import { stopAllSshd } from '../lab/sshd.js';
import { sleep } from '../src/sleep.js';

const dir = mkdtempSync(join(tmpdir(), 'phx-lab-test-'));
let lab: Lab;

before(async () => {
  lab = await startLab({ dir, hosts: 3 });
});
after(async () => {
  await lab?.stop();
  await stopAllSshd();
  rmSync(dir, { recursive: true, force: true });
});

/** pid, state, parent, uids and the lab marker of a process, for a failure message */
function describeProcess(pid: number): string {
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, 'latin1');
    } catch (e) {
      return `(${(e as NodeJS.ErrnoException).code})`;
    }
  };
  const status = read('status')
    .split('\n')
    .filter((l) => /^(State|PPid|Uid):/.test(l))
    .join('; ');
  const marker = read('environ')
    .split('\0')
    .filter((v) => v.startsWith('PHX_LAB_HOST_NS='))
    .join(' ');
  return `${pid} ${status} marker=${marker || 'none'}`;
}

function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) found.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return found;
}

function refused(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(false);
    });
    s.once('error', () => res(true));
  });
}

test('each host answers over SSH with its own name and the simulated tools first in PATH', async () => {
  assert.deepEqual(
    lab.hosts.map((h) => h.name),
    ['pve1', 'pve2', 'pve3'],
  );
  for (const h of lab.hosts) {
    const r = await lab.exec(
      h.name,
      'hostname; command -v pct; pct list; cat /etc/pve/storage.cfg; readlink /etc/pve/lxc',
    );
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${h.name}\n/usr/local/sbin/pct\ndir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,rootdir,images\n\tprune-backups keep-all=1\nnodes/${h.name}/lxc\n`,
    );
  }
  const inv = readFileSync(lab.inventoryFile, 'utf8');
  assert.match(
    inv,
    /^    lab:\n      hosts:\n        pve1:\n          ansible_host: 127\.0\.0\.1\n          ansible_port: \d+\n          ansible_user: root\n/m,
  );
  assert.ok(inv.includes(`ansible_ssh_private_key_file: ${lab.privateKeyFile}`));
  assert.ok(inv.includes(`ansible_ssh_known_hosts_file: ${lab.knownHostsFile}`));
});

test('isolation: files written on one host are absent on the others and on the machine', async () => {
  const w = await lab.exec(
    'pve1',
    'echo one > /tank/marker && mkdir -p /etc/exports.d && echo "/tank 127.0.0.1(rw)" > /etc/exports.d/lab-test.exports && zfs create tank/only1 && pct create 150 local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst --unprivileged 1 >/dev/null',
  );
  assert.equal(w.rc, 0, w.stderr);
  for (const other of ['pve2', 'pve3']) {
    const r = await lab.exec(other, 'ls /tank; ls /etc/exports.d; zfs list -H -o name; pct list');
    assert.equal(r.stdout, 'quickOS\ntank\n', `${other} sees nothing of pve1`);
  }
  assert.equal(existsSync('/etc/exports.d/lab-test.exports'), false);
  assert.equal(existsSync('/tank/marker'), false);
  assert.equal(
    readFileSync(join(lab.hosts[0].root, 'tank/marker'), 'utf8'),
    'one\n',
    'host.root is the host state on the controller',
  );
});

test('pct exec inside a lab host maps ids; qm guest exec reaches docker in VM 1001', async () => {
  const r = await lab.exec(
    'pve1',
    'pct start 150 && pct exec 150 -- sh -c "mkdir -p /srv/w && chown www-data /srv/w && stat -c %U /srv/w" && stat -c %u /var/lib/vz/images/150/subvol-150-disk-0.subvol/srv/w',
  );
  assert.equal(r.stdout, 'www-data\n100033\n', r.stderr);
  const q = await lab.exec('pve2', 'qm guest exec 1001 -- docker volume create v1');
  assert.equal(q.stdout, '{\n   "exitcode" : 0,\n   "exited" : 1,\n   "out-data" : "v1\\n"\n}\n', q.stderr);
});

test('faults: NFS late, guest agent late, refused connections', async () => {
  await lab.setFaults('pve3', { nfsDelaySeconds: 3, guestAgentDelaySeconds: 3 });
  const t0 = Date.now();
  let r = await lab.exec('pve3', 'systemctl start nfs-server; showmount -e 127.0.0.1; qm guest exec 1001 -- true');
  if (Date.now() - t0 < 2500) {
    assert.match(r.stderr, /clnt_create: RPC: Program not registered\n/);
    assert.match(r.stderr, /QEMU guest agent is not running\n/);
  }
  await new Promise((res) => setTimeout(res, Math.max(0, 3000 - (Date.now() - t0))));
  // ready after the delay (polled: the delay counts from when the command ran on the host)
  for (let i = 0; ; i++) {
    r = await lab.exec('pve3', 'showmount -e 127.0.0.1 && qm guest exec 1001 -- true');
    if (r.rc === 0 || i >= 20) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(r.rc, 0, r.stderr);

  const port = lab.hosts[1].port;
  await lab.setFaults('pve2', { refuseConnections: true });
  assert.equal(await refused(port), true);
  assert.equal((await lab.exec('pve2', 'true')).rc, 255);
  assert.equal(labStatus(dir).find((h) => h.name === 'pve2')?.up, false);
  await lab.setFaults('pve2', {});
  assert.equal((await lab.exec('pve2', 'true')).rc, 0);
});

const PHX_PLAY = fileURLToPath(new URL('../../bin/phx-play.js', import.meta.url));

function phxPlay(...args: string[]): { rc: number; out: string } {
  const r = spawnSync(process.execPath, [PHX_PLAY, '-i', lab.inventoryFile, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { rc: r.status ?? -1, out: r.stdout + r.stderr };
}

test('phx-play drives the lab: the demo playbook converges, a second run changes nothing; isolation seen by the command module', () => {
  const demo = fileURLToPath(new URL('../../playbooks/demo.yml', import.meta.url));
  const first = phxPlay(demo);
  assert.equal(first.rc, 0, first.out);
  assert.match(first.out, /pve1 +: ok=\d+ +changed=2 /);
  const second = phxPlay(demo);
  assert.equal(second.rc, 0, second.out);
  for (const h of ['pve1', 'pve2', 'pve3']) assert.match(second.out, new RegExp(`${h} +: ok=\\d+ +changed=0 `));
  const play = join(dir, 'isolation.yml');
  writeFileSync(
    play,
    [
      '- hosts: pve1',
      '  gather_facts: false',
      '  tasks:',
      '    - command: touch /var/lib/phx-play/only-on-pve1',
      '- hosts: pve2:pve3',
      '  gather_facts: false',
      '  tasks:',
      '    - command: test ! -e /var/lib/phx-play/only-on-pve1',
      '',
    ].join('\n'),
  );
  const iso = phxPlay(play);
  assert.equal(iso.rc, 0, iso.out);
  assert.ok(existsSync(join(lab.hosts[0].root, 'var/lib/phx-play/only-on-pve1')));
});

test('down leaves no process; up again keeps the state and the host keys', async () => {
  const pids = labStatus(dir).map((h) => h.pid);
  assert.ok(pids.every((p) => typeof p === 'number'));
  // a process left running in the background inside a container must not survive down either
  const bg = await lab.exec('pve1', 'pct exec 150 -- sh -c "sleep 300 >/dev/null 2>&1 &"; echo started');
  assert.equal(bg.stdout, 'started\n', bg.stderr);
  await lab.stop();
  // a killed process may take a moment to be reaped by init: bounded wait, then say what is left
  for (let i = 0; i < 50 && processesMentioning('sleep\u0000300').length > 0; i++) await sleep(100);
  assert.deepEqual(processesMentioning('sleep\u0000300').map(describeProcess), [], 'background guest process gone');
  assert.deepEqual(processesMentioning(dir), [], 'nothing of the lab runs after down');
  for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `sshd ${pid} gone`);
  assert.ok(labStatus(dir).every((h) => !h.up));

  // a stale pid file (crash) is ignored
  writeFileSync(join(dir, 'hosts/pve1/sshd.pid'), `${process.pid}\n`);
  assert.equal(labStatus(dir)[0].up, false);

  lab = await startLab({ dir, hosts: 3 });
  const r = await lab.exec('pve1', 'cat /tank/marker; pct status 150; zfs list -H -o name tank/only1');
  assert.equal(r.stdout, 'one\nstatus: running\ntank/only1\n', r.stderr);
  // up is idempotent: running hosts stay
  const before = labStatus(dir).map((h) => h.pid);
  lab = await startLab({ dir, hosts: 3 });
  assert.deepEqual(
    labStatus(dir).map((h) => h.pid),
    before,
  );
});

test('the lab CLI: status lists hosts, fault sets one fault and keeps the others', () => {
  const cli = fileURLToPath(new URL('../lab/cli.js', import.meta.url));
  const status = spawnSync(process.execPath, [cli, 'status', '--dir', dir], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^pve1\\t127\\.0\\.0\\.1:${lab.hosts[0].port}\\tpid \\d+\\tup\\npve2\\t`));
  for (const [name, value] of [
    ['nfs', '5'],
    ['agent', '7'],
  ]) {
    const r = spawnSync(process.execPath, [cli, 'fault', 'pve1', name, value, '--dir', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(lab.hosts[0].root, 'var/lib/phx-lab/faults.json'), 'utf8')), {
    nfsDelaySeconds: 5,
    guestAgentDelaySeconds: 7,
  });
  const bad = spawnSync(process.execPath, [cli, 'fault', 'pve1', 'bogus', '1', '--dir', dir], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /usage: npm run lab/);
});

test('reset brings a host back to the seeded state', async () => {
  await lab.reset('pve1');
  const r = await lab.exec(
    'pve1',
    'ls /tank; pct list; zfs list -H -o name; systemctl is-active nfs-server; qm status 1001',
  );
  assert.equal(r.stdout, 'quickOS\ntank\ninactive\nstatus: running\n', r.stderr);
});
