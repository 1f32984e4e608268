// docker_volume against a lab host over SSH, inside VM 1001 through qm guest
// exec: NFS volume with ensure_source, exact check mode, second run ok, drift,
// recreate of an unused/used volume (guest failure behind qm's exit 0), the
// guest agent coming up late (retries) or never (bounded), VM stopped/missing,
// hostile option values kept literal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModuleContext } from '../src/module-runner.js';
import dockerVolume from '../modules/docker_volume.js';
import { runInGuest } from '../src/proxmox/qm.js';
import { comparable, useLabHost } from './harness/lab-fixture.js';

/** What `docker volume inspect` prints: a list of volumes. */
type Inspected = { Options: Record<string, string> }[];

// ---- harness: one lab host, one reused SSH connection
const fx = useLabHost('phx-docker-volume-lab-');
const { run, sh, commands, exec, setFaults } = fx;
const DOCKER_STATE = '/var/lib/phx-lab/vm/1001/rootfs/var/lib/docker/phx-lab.json';
const snapshot = () => sh(`cat ${DOCKER_STATE} 2>&1; echo ==; ls -laR /quickOS 2>&1`);
const guest = async (argv: string) =>
  JSON.parse(await sh(`qm guest exec 1001 -- ${argv}`)) as {
    exitcode: number;
    'out-data'?: string;
    'err-data'?: string;
  };

const SRC = '/quickOS/vm-persistent-data/1001/portainer/data';
const PORTAINER = {
  name: 'portainer_data_nfs',
  vmid: 1001,
  driver: 'local',
  options: { type: 'nfs', o: 'addr=127.0.0.1,rw,nfsvers=4', device: `:${SRC}` },
  ensure_source: SRC,
};

test('fresh host: check predicts ensure_source + create exactly and touches nothing; real run; inspect shows the options; second run ok', async () => {
  const before = await snapshot();
  const chk = await run(dockerVolume, PORTAINER, { check: true, diff: true });
  assert.equal(chk.failed, undefined, String(chk.msg));
  assert.equal(chk.changed, true);
  assert.equal(await snapshot(), before, 'docker state and the hypervisor path unchanged');
  assert.deepEqual(chk.diff, {
    before: '',
    after: `driver: local\ndevice: :${SRC}\no: addr=127.0.0.1,rw,nfsvers=4\ntype: nfs\n`,
    before_header: 'docker volume portainer_data_nfs in VM 1001',
    after_header: 'docker volume portainer_data_nfs in VM 1001',
  });

  const real = await run(dockerVolume, PORTAINER);
  assert.equal(real.failed, undefined, String(real.msg));
  assert.deepEqual(comparable(real), comparable(chk));
  assert.equal(
    real.msg,
    `create NFS source directory ${SRC} on the hypervisor; create docker volume portainer_data_nfs in VM 1001 (driver local, device=:${SRC} o=addr=127.0.0.1,rw,nfsvers=4 type=nfs)`,
  );
  assert.equal((await exec(`test -d ${SRC}`)).rc, 0);
  const inspect = await guest('docker volume inspect portainer_data_nfs');
  assert.equal(inspect.exitcode, 0);
  assert.deepEqual((JSON.parse(inspect['out-data']!) as Inspected)[0].Options, {
    device: `:${SRC}`,
    o: 'addr=127.0.0.1,rw,nfsvers=4',
    type: 'nfs',
  });

  const again = await run(dockerVolume, PORTAINER);
  assert.equal(again.changed, false, String(again.msg));
});

test('options drift fails clearly; recreate: options-changed replaces an unused volume, and fails clearly on one in use', async () => {
  await sh('qm guest exec 1001 -- docker volume create --driver local --opt type=tmpfs --opt device=tmpfs media');
  const want = { name: 'media', vmid: 1001, options: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' } };
  const drift = await run(dockerVolume, want);
  assert.equal(drift.failed, true);
  assert.match(
    String(drift.msg),
    /exists with driver local and options device=tmpfs type=tmpfs, but the task wants .*o=size=64m.*recreate: options-changed/,
  );

  const re = await run(dockerVolume, { ...want, recreate: 'options-changed' });
  assert.equal(re.failed, undefined, String(re.msg));
  assert.equal(re.recreated, true);
  assert.deepEqual((JSON.parse((await guest('docker volume inspect media'))['out-data']!) as Inspected)[0].Options, {
    device: 'tmpfs',
    o: 'size=64m',
    type: 'tmpfs',
  });
  assert.equal((await run(dockerVolume, { ...want, recreate: 'options-changed' })).changed, false);

  const started = await guest('docker run -d --name user -v media:/data alpine sleep 600');
  assert.equal(started.exitcode, 0, started['err-data']);
  const inUse = await run(dockerVolume, {
    ...want,
    options: { type: 'tmpfs', device: 'tmpfs' },
    recreate: 'options-changed',
  });
  assert.equal(inUse.failed, true);
  assert.match(
    String(inUse.msg),
    /docker volume media in VM 1001 is in use, so it cannot be removed \(Error response from daemon: remove media: volume is in use - \[/,
  );
  await guest('docker rm -f user');
});

test('absent removes; a missing VM and a stopped VM fail clearly', async () => {
  await sh('qm guest exec 1001 -- docker volume create old');
  const gone = await run(dockerVolume, { name: 'old', vmid: 1001, state: 'absent' });
  assert.equal(gone.changed, true, String(gone.msg));
  assert.equal((await guest('docker volume inspect old')).exitcode, 1);
  assert.equal((await run(dockerVolume, { name: 'old', vmid: 1001, state: 'absent' })).changed, false);

  const missing = await run(dockerVolume, { name: 'x', vmid: 4242 });
  assert.equal(missing.failed, true);
  assert.match(String(missing.msg), /VM 4242 does not exist/);

  await sh('qm stop 1001');
  try {
    const stopped = await run(dockerVolume, { name: 'x', vmid: 1001 });
    assert.equal(stopped.failed, true);
    assert.match(String(stopped.msg), /VM 1001 is not running/);
  } finally {
    await sh('qm start 1001');
  }
});

test('guest agent not running yet: retries until it answers; never answering fails within agent_timeout', async () => {
  await setFaults({ guestAgentDelaySeconds: 3 });
  try {
    await sh('qm stop 1001 && qm start 1001');
    const t0 = Date.now();
    const n = commands.length;
    const r = await run(dockerVolume, { name: 'late', vmid: 1001, retry_interval: 0.5 });
    assert.equal(r.failed, undefined, String(r.msg));
    assert.equal(r.changed, true);
    assert.ok(Date.now() - t0 >= 1500, 'it waited for the agent');
    assert.ok(commands.slice(n).filter((c) => c.includes('qm guest exec')).length >= 3, 'retried');

    await setFaults({ guestAgentDelaySeconds: 30 });
    await sh('qm stop 1001 && qm start 1001');
    const t1 = Date.now();
    const never = await run(dockerVolume, { name: 'late', vmid: 1001, agent_timeout: 2, retry_interval: 0.5 });
    assert.equal(never.failed, true);
    assert.match(
      String(never.msg),
      /QEMU guest agent in VM 1001 was still not running after \d+ s \(agent_timeout 2 s\)/,
    );
    assert.ok(Date.now() - t1 < 10_000, 'bounded');
  } finally {
    await setFaults({});
    await sh('qm stop 1001 && qm start 1001');
  }
});

// qemu-server PVE/QemuServer/Agent.pm, assert_agent_available: `agent: 0` is a
// defined key, so qm says "QEMU guest agent is not running" (not "No QEMU guest
// agent configured"); waiting cannot help, src/proxmox/qm.ts reads the config once.
test('agent: 0 in the VM config fails at once, naming the disabled agent, not after agent_timeout', async () => {
  const conf = '/etc/pve/qemu-server/1001.conf';
  await sh(`cp ${conf} /root/1001.conf.orig && sed -i 's/^agent: .*/agent: 0/' ${conf}`);
  try {
    const t0 = Date.now();
    const r = await run(dockerVolume, { name: 'x', vmid: 1001, agent_timeout: 20, retry_interval: 0.5 });
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /QEMU guest agent of VM 1001 is disabled in its config \(agent: 0\)/);
    assert.match(String(r.msg), /qm set 1001 --agent 1/);
    assert.ok(Date.now() - t0 < 5_000, 'no waiting for an agent that cannot start');
  } finally {
    await sh(`cp /root/1001.conf.orig ${conf}`);
  }
});

test('hostile option values stay literal', async () => {
  const device = `:/quickOS/it's "$(touch /tmp/pwned)" dir`;
  const want = { name: 'hostile', vmid: 1001, options: { type: 'nfs', o: 'addr=127.0.0.1,rw', device } };
  const r = await run(dockerVolume, want);
  assert.equal(r.failed, undefined, String(r.msg));
  assert.equal(
    (JSON.parse((await guest('docker volume inspect hostile'))['out-data']!) as Inspected)[0].Options.device,
    device,
  );
  assert.equal((await exec('test -e /tmp/pwned')).rc, 1);
  assert.equal((await run(dockerVolume, want)).changed, false);
});

test("qm guest exec timeout (only a pid comes back) and a failing guest command behind qm's exit 0, through runInGuest", async () => {
  const ctx = createModuleContext({ host: fx.host, conn: fx.conn });
  await assert.rejects(
    runInGuest(ctx, 1001, ['sleep', '5'], { timeoutSeconds: 1 }),
    /guest command timed out after 1 s in VM 1001 \(still running as pid \d+\): sleep 5/,
  );
  const r = await runInGuest(ctx, 1001, ['sh', '-c', 'echo out; echo "it\'s $1" >&2; exit 3', 'sh', '$(x)']);
  assert.deepEqual(r, { rc: 3, stdout: 'out\n', stderr: "it's $(x)\n" });
  await assert.rejects(runInGuest(ctx, 1001, ['nosuchbinary']), /Failed to execute child process "nosuchbinary"/);
});
