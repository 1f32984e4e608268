// docker_volume and qm guest exec: parsers and planner on recorded outputs (no host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dockerVolume, {
  inspectOutcome,
  parseVolumeInspect,
  plan,
  type DockerVolumeFacts,
} from '../modules/docker_volume.js';
import { datasetSlot, dockerVolumeSlot, predictionRecord, Predictions } from '../src/predictions.js';
import { guestResult, parseGuestExecOutput, runInGuest } from '../src/proxmox/qm.js';
import { runBatch } from '../src/remote/batch.js';
import { ModuleError, type ModuleContext } from '../src/module.js';
import type { ExecResult } from '../src/connection/types.js';
import { createModuleContext } from '../src/module-runner.js';
import { LocalConnection } from '../src/connection/local.js';

const SPEC_QM_FAIL = `{
   "err-data" : "Error: No such volume: media\\n",
   "exitcode" : 1,
   "exited" : 1,
   "out-data" : "[]\\n"
}
`;
const SPEC_INSPECT = `[
    {
        "CreatedAt": "2025-05-01T10:00:00Z",
        "Driver": "local",
        "Labels": null,
        "Mountpoint": "/var/lib/docker/volumes/media/_data",
        "Name": "media",
        "Options": {"device": ":/srv/nfs/media", "o": "addr=10.0.0.5,rw,nfsvers=4", "type": "nfs"},
        "Scope": "local"
    }
]
`;
const NFS = { type: 'nfs', o: 'addr=10.0.0.5,rw,nfsvers=4', device: ':/srv/nfs/media' };
const args = (a: Record<string, unknown>) => dockerVolume.args.parse(a);
/** plan as check mode runs it: the predictions of earlier tasks overlaid on the facts */
const checkPlan = (f: DockerVolumeFacts, a: ReturnType<typeof args>, predicted = new Predictions()) =>
  plan(dockerVolume.overlay!(f, a, predicted), a);

test('qm guest exec JSON: failure behind rc 0, absent out-data/err-data, timeout with pid only', () => {
  const st = parseGuestExecOutput(SPEC_QM_FAIL);
  assert.deepEqual(st, {
    exited: true,
    exitcode: 1,
    outData: '[]\n',
    errData: 'Error: No such volume: media\n',
    outTruncated: false,
    errTruncated: false,
    signal: undefined,
    pid: undefined,
  });
  assert.deepEqual(parseGuestExecOutput('{\n   "exitcode" : 0,\n   "exited" : 1\n}\n'), {
    exited: true,
    exitcode: 0,
    outData: '',
    errData: '',
    outTruncated: false,
    errTruncated: false,
    signal: undefined,
    pid: undefined,
  });
  assert.equal(parseGuestExecOutput('{\n   "pid" : 1234\n}\n').exited, false);
  const argv = ['docker', 'volume', 'inspect', 'media'];
  assert.deepEqual(guestResult(1001, argv, { rc: 0, stdout: SPEC_QM_FAIL, stderr: '' }), {
    rc: 1,
    stdout: '[]\n',
    stderr: 'Error: No such volume: media\n',
  });
  assert.throws(
    () =>
      guestResult(
        1001,
        argv,
        { rc: 0, stdout: '{\n   "pid" : 1234\n}\n', stderr: 'timeout reached, returning pid\n' },
        30,
      ),
    /guest command timed out after 30 s in VM 1001 \(still running as pid 1234\)/,
  );
  assert.throws(
    () => guestResult(1001, argv, { rc: 255, stdout: '', stderr: 'VM 1001 is not running\n' }),
    /VM 1001 is not running/,
  );
  assert.throws(
    () => guestResult(1001, argv, { rc: 255, stdout: '', stderr: 'No QEMU guest agent configured\n' }),
    /no QEMU guest agent configured/,
  );
  assert.throws(
    () =>
      guestResult(105, argv, {
        rc: 2,
        stdout: '',
        stderr: "Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist\n",
      }),
    /VM 105 does not exist/,
  );
  assert.throws(
    () =>
      guestResult(1001, argv, {
        rc: 255,
        stdout: '',
        stderr:
          'VM 1001 qga command \'guest-exec\' failed - Failed to execute child process "docker" (No such file or directory)\n',
      }),
    /Failed to execute child process "docker"/,
  );
  assert.throws(() => parseGuestExecOutput('not json'), ModuleError);
  const failure = (() => {
    try {
      guestResult(1001, argv, { rc: 0, stdout: '{"pid": 1}', stderr: '' });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(failure instanceof ModuleError, 'runModule turns it into a failed result');
});

test('docker volume inspect: options, Options null, missing in its three wordings, other errors', () => {
  assert.deepEqual(parseVolumeInspect(SPEC_INSPECT), {
    driver: 'local',
    options: NFS,
    mountpoint: '/var/lib/docker/volumes/media/_data',
  });
  assert.deepEqual(parseVolumeInspect('[{"Driver":"local","Options":null,"Name":"x"}]')?.options, {});
  for (const stderr of [
    'Error: No such volume: media\n',
    'Error response from daemon: get media: no such volume\n',
    'Error: volume media not found\n',
  ]) {
    assert.deepEqual(inspectOutcome('media', { rc: 1, stdout: '[]\n', stderr }), { volume: null });
  }
  assert.match(
    inspectOutcome('media', {
      rc: 1,
      stdout: '',
      stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n',
    }).error!,
    /Cannot connect/,
  );
  assert.match(inspectOutcome('media', { rc: 127, stdout: '', stderr: 'sh: docker: not found\n' }).error!, /not found/);
});

const volFacts = (
  options: Record<string, string> | null,
  extra: Partial<DockerVolumeFacts> = {},
): DockerVolumeFacts => ({ volume: options ? { driver: 'local', options } : null, ...extra });

test('plan: create if missing, ensure_source first, ok when options equal', () => {
  const a = args({ name: 'media', vmid: 1001, options: NFS, ensure_source: '/srv/nfs/media' });
  const p = plan(volFacts(null, { sourceExists: false }), a);
  assert.deepEqual(
    p.changes.map((c) => c.description),
    [
      'create NFS source directory /srv/nfs/media on the hypervisor',
      'create docker volume media in VM 1001 (driver local, device=:/srv/nfs/media o=addr=10.0.0.5,rw,nfsvers=4 type=nfs)',
    ],
  );
  assert.deepEqual(p.changes[0].argv, ['mkdir', '-p', '--', '/srv/nfs/media']);
  assert.ok(p.changes[1].apply, 'guest commands are applied through qm');
  assert.deepEqual(predictionRecord(p.predict), {
    'docker_volume:1001:media': { driver: 'local', options: NFS },
    'path:/srv/nfs/media': { exists: true, type: 'directory', uid: 0, gid: 0 },
  });
  assert.equal(plan(volFacts(NFS, { sourceExists: true }), a).changes.length, 0);
});

test('plan: options drift fails unless recreate: options-changed; absent removes', () => {
  const drifted = { ...NFS, o: 'addr=10.0.0.6,rw,nfsvers=4' };
  const fail = plan(volFacts(drifted), args({ name: 'media', vmid: 1001, options: NFS }));
  assert.match(
    fail.fail!,
    /exists with driver local and options device=:\/srv\/nfs\/media o=addr=10.0.0.6.*recreate: options-changed/,
  );
  const re = plan(volFacts(drifted), args({ name: 'media', vmid: 1001, options: NFS, recreate: 'options-changed' }));
  assert.deepEqual(
    re.changes.map((c) => c.description.split(' (')[0]),
    ['remove docker volume media in VM 1001', 'create docker volume media in VM 1001'],
  );
  assert.equal(
    plan(volFacts({}), args({ name: 'media', options: {} })).changes.length,
    0,
    'Options null/{} equals no options',
  );
  assert.match(
    plan(volFacts({ ...NFS, extra: '1' }), args({ name: 'media', options: NFS })).fail!,
    /extra=1/,
    'an extra option is drift too',
  );
  assert.equal(
    plan(volFacts(NFS), args({ name: 'media', state: 'absent' })).changes[0].description,
    'remove docker volume media',
  );
  assert.equal(plan(volFacts(null), args({ name: 'media', state: 'absent' })).changes.length, 0);
  assert.match(plan({ volume: null, error: 'boom' }, args({ name: 'media' })).fail!, /boom/);
});

test('check mode plans against an earlier prediction', () => {
  const predicted = Predictions.of([
    dockerVolumeSlot.entry({ vmid: 1001, name: 'media' }, { driver: 'local', options: NFS }),
  ]);
  assert.equal(
    checkPlan(volFacts(null), args({ name: 'media', vmid: 1001, options: NFS }), predicted).changes.length,
    0,
  );
  const a = args({ name: 'media', vmid: 1001, options: NFS, ensure_source: '/srv/nfs/media/' });
  const first = checkPlan(volFacts(null, { sourceExists: false }), a);
  assert.deepEqual(predictionRecord(first.predict)['path:/srv/nfs/media'], {
    exists: true,
    type: 'directory',
    uid: 0,
    gid: 0,
  });
  const zfs = Predictions.of([
    datasetSlot.entry('tank/media', { exists: true, properties: {}, mountpoint: '/srv/nfs/media' }),
  ]);
  assert.deepEqual(
    checkPlan(volFacts(null, { sourceExists: false }), a, zfs).changes.map((c) => c.description.split(' (')[0]),
    ['create docker volume media in VM 1001'],
    'a dataset an earlier task would mount there is the source',
  );
});

test('bad arguments', () => {
  const bad = (a: Record<string, unknown>) => {
    const r = dockerVolume.args.safeParse(a);
    assert.ok(!r.success, JSON.stringify(a));
    return r.error.issues.map((i) => i.message).join('\n');
  };
  assert.match(bad({ name: '-x' }), /Docker volume name/);
  assert.match(bad({ name: 'a b' }), /Docker volume name/);
  assert.match(bad({ name: 'x', ensure_source: 'rel' }), /absolute/);
  assert.match(bad({ name: 'x', recreate: 'always' }), /options-changed/);
  assert.match(bad({ name: 'x', vmid: 'abc' }), /VM id/);
});

/** A context whose run() answers from a script of recorded results (the retry loop's view of a host). */
function scriptedContext(answers: ExecResult[]): { ctx: ModuleContext; calls: string[][] } {
  const calls: string[][] = [];
  const base = createModuleContext({ host: 'h', conn: new LocalConnection() });
  const ctx: ModuleContext = {
    ...base,
    run: (argv) => {
      calls.push([...argv]);
      const next = answers.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no more answers'));
    },
  };
  return { ctx, calls };
}

test('runInGuest retries (bounded) while the guest agent is not running, then succeeds', async () => {
  const notYet = { rc: 255, stdout: '', stderr: 'QEMU guest agent is not running\n' };
  const { ctx, calls } = scriptedContext([
    notYet,
    // the first "not running" reads the config once: an enabled agent is worth waiting for
    { rc: 0, stdout: 'agent: 1\nmemory: 2048\n', stderr: '' },
    notYet,
    { rc: 0, stdout: '{\n   "exitcode" : 0,\n   "exited" : 1,\n   "out-data" : "ok\\n"\n}\n', stderr: '' },
  ]);
  const t0 = Date.now();
  const r = await runInGuest(ctx, 1001, ['docker', 'info'], { retryIntervalMs: 50, agentTimeoutMs: 5000 });
  assert.deepEqual(r, { rc: 0, stdout: 'ok\n', stderr: '' });
  assert.equal(calls.length, 4);
  assert.deepEqual(calls[0], ['qm', 'guest', 'exec', '1001', '--timeout', '30', '--', 'docker', 'info']);
  assert.deepEqual(calls[1], ['qm', 'config', '1001']);
  assert.deepEqual(calls[2], calls[0]);
  assert.ok(Date.now() - t0 >= 100);

  const never = scriptedContext(Array.from({ length: 50 }, () => notYet));
  await assert.rejects(
    runInGuest(never.ctx, 1001, ['docker', 'info'], { retryIntervalMs: 50, agentTimeoutMs: 300 }),
    /guest agent in VM 1001 was still not running after 0 s \(agent_timeout 0 s\)|still not running/,
  );
  assert.ok(never.calls.length >= 3 && never.calls.length <= 8, `bounded: ${never.calls.length} tries`);
});

test("runBatch keeps each command's stdout, stderr and rc apart in one round trip", async () => {
  const ctx = createModuleContext({ host: 'local', conn: new LocalConnection() });
  const r = await runBatch(ctx, [
    ['printf', 'a\nb'],
    ['sh', '-c', 'echo err >&2; exit 3'],
    ['printf', '%s', "$(x) 'q'\n"],
  ]);
  assert.deepEqual(r, [
    { rc: 0, stdout: 'a\nb', stderr: '' },
    { rc: 3, stdout: '', stderr: 'err\n' },
    { rc: 0, stdout: "$(x) 'q'\n", stderr: '' },
  ]);
});

test('without vmid the host is the Docker host: docker runs directly (here: not installed → a clear failure)', async () => {
  const { runModule } = await import('../src/module-runner.js');
  const ctx = createModuleContext({ host: 'local', conn: new LocalConnection(), env: { PATH: '/nonexistent' } });
  const r = await runModule(dockerVolume, args({ name: 'media' }), ctx);
  assert.equal(r.failed, true);
  assert.match(String(r.msg), /docker volume inspect media failed \(rc 127\): .*docker.*not found/);
});
