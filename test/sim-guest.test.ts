// The simulated NFS server tools, systemctl, qm guest exec with docker inside
// the VM, and pvenode cert info, against the spec (§4, §6, §7).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { SimRoot } from '../lab/testkit.js';

const s = new SimRoot('pve1');
after(() => s.cleanup());

const setFaults = (f: object) => writeFileSync(s.path('/var/lib/phx-lab/faults.json'), JSON.stringify(f));

test('systemctl: nfs-server seeded stopped; is-active, start, reload of an inactive unit, unknown units', () => {
  const r = s.run('systemctl', 'is-active', 'nfs-server');
  assert.deepEqual([r.stdout, r.rc], ['inactive\n', 3]);
  assert.deepEqual(
    [s.run('systemctl', 'is-active', 'pveproxy').stdout, s.run('systemctl', 'is-active', 'pveproxy').rc],
    ['active\n', 0],
  );
  const reload = s.run('systemctl', 'reload', 'nfs-server');
  assert.deepEqual([reload.stderr, reload.rc], ['nfs-server.service is not active, cannot reload.\n', 1]);
  const unknown = s.run('systemctl', 'start', 'nope');
  assert.deepEqual([unknown.stderr, unknown.rc], ['Failed to start nope.service: Unit nope.service not found.\n', 5]);
  assert.equal(s.run('systemctl', 'status', 'nope').rc, 4);
  assert.equal(s.run('systemctl', 'reload-or-restart', 'pveproxy').rc, 0);
  assert.match(readFileSync(s.path('/var/lib/phx-lab/systemctl.log'), 'utf8'), / reload-or-restart pveproxy\n$/);
});

test('NFS not ready: showmount, rpcinfo fail with the spec texts', () => {
  const sm = s.run('showmount', '-e', '127.0.0.1');
  assert.deepEqual([sm.stderr, sm.rc], ['clnt_create: RPC: Program not registered\n', 1]);
  const rpc = s.run('rpcinfo', '-T', 'tcp', '127.0.0.1', 'nfs', '4');
  assert.deepEqual(
    [rpc.stdout, rpc.stderr, rpc.rc],
    ['program 100003 version 4 is not available\n', 'rpcinfo: RPC: Program not registered\n', 1],
  );
  const far = s.run('showmount', '-e', '10.0.0.5');
  assert.equal(
    far.stderr,
    'clnt_create: RPC: Port mapper failure - Unable to receive: errno 111 (Connection refused)\n',
  );
  assert.doesNotMatch(s.run('rpcinfo', '-p', '127.0.0.1').stdout, /nfs/);
});

test('exports: exportfs -ra from /etc/exports(.d), -v and -s formats, missing path', () => {
  mkdirSync(s.path('/srv/nfs/media'), { recursive: true });
  mkdirSync(s.path('/srv/a'), { recursive: true });
  writeFileSync(s.path('/etc/exports'), '# media\n/srv/nfs/media 10.0.0.0/24(rw,sync,no_subtree_check)\n');
  mkdirSync(s.path('/etc/exports.d'), { recursive: true });
  writeFileSync(s.path('/etc/exports.d/a.exports'), '/srv/a *(ro)\n');
  assert.equal(s.run('exportfs', '-ra').rc, 0);
  assert.equal(
    s.run('exportfs', '-v').stdout,
    '/srv/nfs/media\n\t\t10.0.0.0/24(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,root_squash,no_all_squash)\n' +
      '/srv/a        \t<world>(sync,wdelay,hide,no_subtree_check,sec=sys,ro,secure,root_squash,no_all_squash)\n',
  );
  assert.match(
    s.run('exportfs', '-s').stdout,
    /^\/srv\/nfs\/media 10\.0\.0\.0\/24\(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,root_squash,no_all_squash\)\n/,
  );
  writeFileSync(s.path('/etc/exports.d/b.exports'), '/srv/missing *(rw)\n');
  const r = s.run('exportfs', '-ra');
  assert.equal(r.stderr, 'exportfs: Failed to stat /srv/missing: No such file or directory\n');
  assert.doesNotMatch(s.run('exportfs', '-v').stdout, /missing/);
  writeFileSync(s.path('/etc/exports.d/b.exports'), '');
});

test('NFS ready only nfsDelaySeconds after nfs-server starts (fault)', async () => {
  setFaults({ nfsDelaySeconds: 3 });
  const t0 = Date.now();
  assert.equal(s.run('systemctl', 'start', 'nfs-server').rc, 0);
  const early = s.run('showmount', '-e', '127.0.0.1');
  if (Date.now() - t0 < 2500) assert.equal(early.rc, 1, 'not ready right after start');
  await new Promise((r) => setTimeout(r, Math.max(0, 3100 - (Date.now() - t0))));
  const sm = s.run('showmount', '-e', '127.0.0.1');
  assert.equal(sm.stdout, 'Export list for 127.0.0.1:\n/srv/nfs/media 10.0.0.0/24\n/srv/a         *\n');
  assert.equal(
    s.run('showmount', '-e', '--no-headers', '127.0.0.1').stdout,
    '/srv/nfs/media 10.0.0.0/24\n/srv/a         *\n',
  );
  const rpc = s.run('rpcinfo', '-T', 'tcp', '127.0.0.1', 'nfs', '4');
  assert.deepEqual([rpc.stdout, rpc.rc], ['program 100003 version 4 ready and waiting\n', 0]);
  assert.equal(s.run('rpcinfo', '-t', '127.0.0.1', 'nfs', '3').stdout, 'program 100003 version 3 ready and waiting\n');
  assert.match(
    s.run('rpcinfo', '-p', '127.0.0.1').stdout,
    /^   program vers proto   port  service\n(.*\n)*    100003    4   tcp   2049  nfs\n/,
  );
  // a restart makes it lag again
  s.run('systemctl', 'restart', 'nfs-server');
  assert.equal(s.run('rpcinfo', '-T', 'tcp', '127.0.0.1', 'nfs', '4').rc, 1);
  setFaults({});
});

test('qm: status, missing VM, not running, no agent, agent late (fault)', () => {
  assert.equal(s.run('qm', 'status', '1001').stdout, 'status: running\n');
  const missing = s.run('qm', 'guest', 'exec', '105', '--', 'true');
  assert.equal(missing.stderr, "Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist\n");
  assert.notEqual(missing.rc, 0);
  setFaults({ guestAgentDelaySeconds: 30 });
  assert.equal(s.run('qm', 'stop', '1001').rc, 0);
  assert.equal(s.run('qm', 'guest', 'exec', '1001', '--', 'true').stderr, 'VM 1001 is not running\n');
  assert.equal(s.run('qm', 'start', '1001').rc, 0);
  assert.equal(s.run('qm', 'start', '1001').stderr, 'VM 1001 already running\n');
  const late = s.run('qm', 'guest', 'exec', '1001', '--', 'true');
  assert.deepEqual([late.stderr, late.rc], ['QEMU guest agent is not running\n', 255]);
  setFaults({});
  const conf = s.path('/etc/pve/qemu-server/1001.conf');
  const text = readFileSync(conf, 'utf8');
  writeFileSync(conf, text.replace('agent: 1\n', ''));
  assert.equal(s.run('qm', 'guest', 'exec', '1001', '--', 'true').stderr, 'No QEMU guest agent configured\n');
  // agent defined but disabled: QEMU has no agent socket, guest-ping fails
  // (qemu-server PVE/QemuServer/Agent.pm, assert_agent_available; PVE/QemuServer.pm, config_to_command)
  for (const agent of ['0', 'enabled=0', 'fstrim_cloned_disks=1', 'type=isa']) {
    writeFileSync(conf, text.replace('agent: 1\n', `agent: ${agent}\n`));
    const disabled = s.run('qm', 'guest', 'exec', '1001', '--', 'true');
    assert.deepEqual([disabled.stderr, disabled.rc], ['QEMU guest agent is not running\n', 255], `agent: ${agent}`);
  }
  writeFileSync(conf, text.replace('agent: 1\n', 'agent: enabled=1,fstrim_cloned_disks=1\n'));
  assert.equal(s.run('qm', 'guest', 'exec', '1001', '--', 'true').rc, 0);
  assert.equal(s.run('qm', 'stop', '1001').rc, 0);
  writeFileSync(conf, text.replace('agent: 1\n', 'agent: 0\n'));
  assert.equal(s.run('qm', 'guest', 'exec', '1001', '--', 'true').stderr, 'VM 1001 is not running\n');
  assert.equal(s.run('qm', 'start', '1001').rc, 0);
  writeFileSync(conf, text);
});

test('qm guest exec: pretty JSON, rc 0 even when the guest command fails, missing binary', () => {
  const inspect = s.run('qm', 'guest', 'exec', '1001', '--', 'docker', 'volume', 'inspect', 'media');
  assert.equal(inspect.rc, 0);
  assert.equal(
    inspect.stdout,
    '{\n   "err-data" : "Error: No such volume: media\\n",\n   "exitcode" : 1,\n   "exited" : 1,\n   "out-data" : "[]\\n"\n}\n',
  );
  assert.equal(
    s.run('qm', 'guest', 'exec', '1001', '--', 'true').stdout,
    '{\n   "exitcode" : 0,\n   "exited" : 1\n}\n',
  );
  const nobin = s.run('qm', 'guest', 'exec', '1001', '--', 'nosuchtool');
  assert.equal(
    nobin.stderr,
    `VM 1001 qga command 'guest-exec' failed - Failed to execute child process "nosuchtool" (No such file or directory)\n`,
  );
  const shell = JSON.parse(
    s.run('qm', 'guest', 'exec', '1001', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3').stdout,
  ) as Record<string, unknown>;
  assert.deepEqual(shell, { exitcode: 3, exited: 1, 'out-data': 'out\n', 'err-data': 'err\n' });
  const timeout = s.run('qm', 'guest', 'exec', '1001', '--timeout', '1', '--', 'sleep', '5');
  assert.equal(timeout.stderr, 'timeout reached, returning pid\n');
  assert.match(timeout.stdout, /^\{\n   "pid" : \d+\n\}\n$/);
  assert.equal(timeout.rc, 0);
  // services inside the VM
  assert.equal(guest('systemctl', 'is-active', 'docker')['out-data'], 'active\n');
  assert.equal(guest('systemctl', 'restart', 'docker').exitcode, 0);
  // the VM has its own filesystem
  assert.equal(guest('cat', '/etc/hostname')['out-data'], 'portainer\n');
});

function guest(...argv: string[]): { exitcode: number; 'out-data'?: string; 'err-data'?: string } {
  const r = s.run('qm', 'guest', 'exec', '1001', '--', ...argv);
  assert.equal(r.rc, 0, r.stderr);
  return JSON.parse(r.stdout) as { exitcode: number; 'out-data'?: string; 'err-data'?: string };
}

const NFS_OPTS = [
  '--driver',
  'local',
  '--opt',
  'type=nfs',
  '--opt',
  'o=addr=127.0.0.1,rw,nfsvers=4',
  '--opt',
  'device=:/quickOS/vm-persistent-data/1001/portainer/data',
];

test('docker volume create/inspect: NFS options kept; an existing name keeps its old options', () => {
  assert.equal(
    guest('docker', 'volume', 'create', ...NFS_OPTS, 'portainer_data_nfs')['out-data'],
    'portainer_data_nfs\n',
  );
  const [vol] = JSON.parse(guest('docker', 'volume', 'inspect', 'portainer_data_nfs')['out-data']!) as Array<
    Record<string, unknown>
  >;
  assert.deepEqual(vol.Options, {
    device: ':/quickOS/vm-persistent-data/1001/portainer/data',
    o: 'addr=127.0.0.1,rw,nfsvers=4',
    type: 'nfs',
  });
  assert.equal(vol.Mountpoint, '/var/lib/docker/volumes/portainer_data_nfs/_data');
  assert.equal(vol.Driver, 'local');
  assert.equal(vol.Labels, null);
  const again = guest(
    'docker',
    'volume',
    'create',
    '--driver',
    'local',
    '--opt',
    'type=nfs',
    '--opt',
    'device=:/other',
    'portainer_data_nfs',
  );
  assert.equal(again.exitcode, 0);
  const [same] = JSON.parse(guest('docker', 'volume', 'inspect', 'portainer_data_nfs')['out-data']!) as Array<
    Record<string, unknown>
  >;
  assert.deepEqual(same.Options, vol.Options, 'new options silently ignored');
  assert.match(guest('docker', 'volume', 'ls')['out-data']!, /^DRIVER    VOLUME NAME\nlocal     portainer_data_nfs\n$/);
});

test('docker run with an NFS volume: mount errors while not ready / path missing, then the file lands on the hypervisor', () => {
  const run = () =>
    guest('docker', 'run', '--rm', '-v', 'portainer_data_nfs:/data', 'alpine', 'touch', '/data/test_file.txt');
  s.run('systemctl', 'stop', 'nfs-server');
  let r = run();
  assert.equal(r.exitcode, 125);
  assert.match(
    r['err-data']!,
    /Error response from daemon: error while mounting volume '\/var\/lib\/docker\/volumes\/portainer_data_nfs\/_data': failed to mount local volume: mount :\/quickOS\/vm-persistent-data\/1001\/portainer\/data:\/var\/lib\/docker\/volumes\/portainer_data_nfs\/_data, data: addr=127\.0\.0\.1: connection refused/,
  );
  s.run('systemctl', 'start', 'nfs-server');
  r = run();
  assert.match(r['err-data']!, /: no such file or directory/);
  mkdirSync(s.path('/quickOS/vm-persistent-data/1001/portainer/data'), { recursive: true });
  r = run();
  assert.match(r['err-data']!, /: permission denied/, 'the path must be exported');
  writeFileSync(
    s.path('/etc/exports.d/q.exports'),
    '/quickOS/vm-persistent-data 127.0.0.1(rw,no_root_squash,no_subtree_check)\n',
  );
  s.run('exportfs', '-ra');
  r = run();
  assert.equal(r.exitcode, 0, r['err-data']);
  assert.ok(existsSync(s.path('/quickOS/vm-persistent-data/1001/portainer/data/test_file.txt')));
});

test('docker compose up -d: external volume missing, then Created/Started, then Running; restart; rm in use', () => {
  mkdirSync(s.path('/var/lib/phx-lab/vm/1001/rootfs/opt/portainer'), { recursive: true });
  const compose =
    'services:\n  portainer:\n    image: portainer/portainer-ce:latest\n    container_name: portainer_server\n    volumes:\n      - portainer_data:/data\nvolumes:\n  portainer_data:\n    external: true\n    name: portainer_data_missing\n';
  writeFileSync(s.path('/var/lib/phx-lab/vm/1001/rootfs/opt/portainer/docker-compose.yml'), compose);
  let r = guest('docker', 'compose', '-f', '/opt/portainer/docker-compose.yml', 'up', '-d');
  assert.equal(r.exitcode, 1);
  assert.equal(r['err-data'], 'external volume "portainer_data_missing" not found\n');
  writeFileSync(
    s.path('/var/lib/phx-lab/vm/1001/rootfs/opt/portainer/docker-compose.yml'),
    compose.replace('portainer_data_missing', 'portainer_data_nfs'),
  );
  r = guest('docker', 'compose', '-f', '/opt/portainer/docker-compose.yml', 'up', '-d');
  assert.equal(r.exitcode, 0, r['err-data']);
  assert.match(r['err-data']!, /Container portainer_server  Started/);
  r = guest('docker', 'compose', '-f', '/opt/portainer/docker-compose.yml', 'up', '-d');
  assert.equal(r['err-data'], ' Container portainer_server  Running\n');
  assert.equal(guest('docker', 'ps', '--format', '{{.Names}}')['out-data'], 'portainer_server\n');
  assert.equal(guest('docker', 'restart', 'portainer_server')['out-data'], 'portainer_server\n');
  const [c] = JSON.parse(guest('docker', 'inspect', 'portainer_server')['out-data']!) as Array<{
    RestartCount: number;
    State: { Running: boolean };
  }>;
  assert.deepEqual([c.RestartCount, c.State.Running], [1, true]);
  assert.match(guest('docker', 'restart', 'nope')['err-data']!, /No such container: nope/);
  const rm = guest('docker', 'volume', 'rm', 'portainer_data_nfs');
  assert.equal(rm.exitcode, 1);
  assert.match(
    rm['err-data']!,
    /^Error response from daemon: remove portainer_data_nfs: volume is in use - \[[0-9a-f]+\]\n$/,
  );
});

test('pvenode cert info: real certificates, fingerprint = SHA256 of the DER', () => {
  const r = s.run('pvenode', 'cert', 'info', '--output-format', 'json');
  assert.equal(r.rc, 0, r.stderr);
  const infos = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    infos.map((i) => i.filename),
    ['pve-root-ca.pem', 'pve-ssl.pem'],
  );
  const ssl = infos[1];
  const fp = execFileSync(
    'openssl',
    ['x509', '-noout', '-fingerprint', '-sha256', '-in', s.path('/etc/pve/nodes/pve1/pve-ssl.pem')],
    { encoding: 'utf8' },
  );
  assert.ok(typeof ssl.fingerprint === 'string');
  assert.equal(`sha256 Fingerprint=${ssl.fingerprint}\n`.toLowerCase(), fp.toLowerCase());
  assert.equal(typeof ssl.notafter, 'number');
  assert.ok((ssl.notafter as number) > Date.now() / 1000);
  assert.match(String(ssl.subject), /CN=pve1\.lab/);
  assert.deepEqual(Object.keys(ssl), [...Object.keys(ssl)].sort());
  assert.ok((ssl.san as string[]).includes('pve1'));
});

test('pvesm scan nfs lists the exports of a ready server', () => {
  const r = s.run('pvesm', 'scan', 'nfs', '127.0.0.1');
  assert.equal(r.rc, 0, r.stderr);
  assert.match(r.stdout, /^\/srv\/nfs\/media +10\.0\.0\.0\/24\n/m);
  assert.equal(s.run('pvesm', 'scan', 'nfs', '10.9.9.9').rc, 255);
});

test('docker compose -f - reads the file from stdin (qm guest exec --pass-stdin 1)', () => {
  const compose =
    'name: web\nservices:\n  app:\n    image: nginx\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n';
  const run = () =>
    s.runWith(
      { input: compose },
      'qm',
      'guest',
      'exec',
      '1001',
      '--pass-stdin',
      '1',
      '--',
      'docker',
      'compose',
      '-f',
      '-',
      'up',
      '-d',
    );
  const first = JSON.parse(run().stdout) as { exitcode: number; 'err-data': string };
  assert.equal(first.exitcode, 0, first['err-data']);
  assert.match(first['err-data'], / Volume "web_data"  Created\n Container web-app-1  Creating\n/);
  assert.equal((JSON.parse(run().stdout) as { 'err-data': string })['err-data'], ' Container web-app-1  Running\n');
});

test('pvenode acme cert renew: refused without force while valid; a renewal changes the fingerprint and restarts pveproxy', () => {
  assert.equal(s.run('pvenode', 'acme', 'cert', 'renew').rc, 0, 'first certificate');
  const fp = () =>
    (
      JSON.parse(s.run('pvenode', 'cert', 'info', '--output-format', 'json').stdout) as Array<{
        filename: string;
        fingerprint: string;
      }>
    ).find((c) => c.filename === 'pveproxy-ssl.pem')?.fingerprint;
  const first = fp();
  assert.ok(first);
  const refused = s.run('pvenode', 'acme', 'cert', 'renew');
  assert.equal(
    refused.stderr,
    "400 Parameter verification failed.\nforce: Certificate does not expire within the next 30 days, and 'force' is not set.\n",
  );
  assert.notEqual(refused.rc, 0);
  const r = s.run('pvenode', 'acme', 'cert', 'renew', '--force', '1');
  assert.match(r.stdout, /Restarting pveproxy\nRevoking old certificate\n$/);
  assert.notEqual(fp(), first);
  assert.match(readFileSync(s.path('/var/lib/phx-lab/systemctl.log'), 'utf8'), /reload-or-restart pveproxy\n$/);
});
