// The typed prediction slots (one key normalisation each) and the overlay step
// of the module contract (check mode only, between facts and plan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod';
import { LocalConnection } from '../src/connection/local.js';
import { defineModule } from '../src/module.js';
import { overlayProbe, type ProbeResult } from '../src/remote/probe.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import {
  containerSlot,
  datasetSlot,
  dockerVolumeSlot,
  pathSlot,
  predictedHostPath,
  predictedPath,
  predictionRecord,
  Predictions,
  storageSlot,
} from '../src/predictions.js';

test('pathSlot: a trailing slash, ./, ../ and repeated slashes are one key', () => {
  const p = new Predictions();
  pathSlot.set(p, '/srv/d/', { exists: true, type: 'directory' });
  for (const same of ['/srv/d', '/srv/d/', '/srv/./d', '/srv/x/../d', '//srv//d//'])
    assert.deepEqual(pathSlot.get(p, same), { exists: true, type: 'directory' }, same);
  assert.equal(pathSlot.has(p, '/srv/dd'), false);
  assert.equal(pathSlot.has(p, '/srv'), false);
  assert.deepEqual(
    pathSlot.entries(p).map(([k]) => k),
    ['/srv/d'],
  );
  assert.equal(pathSlot.key('/'), '/', 'the root keeps its slash');
  assert.equal(pathSlot.key('/..'), '/');
  // a later write of the same path (another spelling) replaces the earlier one
  pathSlot.set(p, '/srv/x/../d', { exists: false });
  assert.deepEqual(pathSlot.entries(p), [['/srv/d', { exists: false }]]);
});

test('containerSlot: a ctid as number or decimal string is one key; anything else is refused', () => {
  const p = Predictions.of([containerSlot.entry('105', { config: { keys: {}, lxc: [] }, status: 'running' })]);
  assert.equal(containerSlot.get(p, 105)?.status, 'running');
  assert.equal(containerSlot.has(p, '0105'), true);
  assert.equal(containerSlot.has(p, 106), false);
  containerSlot.set(p, 105, null);
  assert.equal(containerSlot.has(p, '105'), true, 'null: predicted not to exist, which is a prediction');
  assert.equal(containerSlot.get(p, '105'), null);
  assert.throws(() => containerSlot.key('105; rm -rf /'), /not a CT id/);
});

test('datasetSlot, storageSlot, dockerVolumeSlot keys', () => {
  assert.equal(datasetSlot.key('tank/ct/'), 'tank/ct');
  assert.equal(datasetSlot.key('tank//ct'), 'tank/ct');
  assert.equal(datasetSlot.key('tank/ct'), 'tank/ct');
  assert.notEqual(datasetSlot.key('tank/ct'), datasetSlot.key('tank/c'));
  assert.equal(storageSlot.key('local-zfs'), 'local-zfs');
  assert.equal(dockerVolumeSlot.key({ vmid: 1001, name: 'media' }), '1001:media');
  assert.equal(dockerVolumeSlot.key({ name: 'media' }), 'host:media');
  assert.notEqual(dockerVolumeSlot.key({ vmid: 1001, name: 'media' }), dockerVolumeSlot.key({ name: 'media' }));
});

test('slots of different kinds never share a key; entries lists one slot only', () => {
  const p = Predictions.of([
    storageSlot.entry('105', null),
    datasetSlot.entry('tank/a', { exists: true, properties: {}, mountpoint: '/tank/a' }),
  ]);
  assert.equal(containerSlot.has(p, 105), false);
  assert.equal(storageSlot.has(p, '105'), true);
  assert.deepEqual(
    datasetSlot.entries(p).map(([k]) => k),
    ['tank/a'],
  );
  assert.equal(new Predictions().empty, true);
  assert.equal(p.empty, false);
});

test('a plan writes through entries: applied in order, the last write of a key wins', () => {
  const writes = [
    pathSlot.entry('/a/', { exists: true, type: 'file' }),
    pathSlot.entry('/a', { exists: false }),
    containerSlot.entry(101, null),
  ];
  assert.deepEqual(predictionRecord(writes), { 'path:/a': { exists: false }, 'pct:101': null });
  const p = Predictions.of(writes);
  assert.deepEqual(pathSlot.get(p, '/a'), { exists: false });
});

test('predictedPath and predictedHostPath: below a predicted non-directory nothing exists; dataset mountpoints are directories', () => {
  const p = Predictions.of([
    pathSlot.entry('/srv/f', { exists: true, type: 'file' }),
    pathSlot.entry('/srv/gone/', { exists: false }),
    datasetSlot.entry('tank/data', { exists: true, properties: {}, mountpoint: '/tank/data/' }),
  ]);
  assert.deepEqual(predictedPath(p, '/srv/f/x'), { exists: false });
  assert.deepEqual(predictedPath(p, '/srv/gone/a/b'), { exists: false });
  assert.equal(predictedPath(p, '/srv/other'), undefined);
  assert.deepEqual(predictedHostPath(p, '/srv/./f'), { type: 'f', uid: undefined, gid: undefined, mode: undefined });
  assert.equal(predictedHostPath(p, '/srv/gone'), undefined);
  assert.deepEqual(predictedHostPath(p, '/tank/data'), { type: 'd', uid: 0, gid: 0, mode: 0o755 });
  assert.equal(predictedHostPath(p, '/tank/data/sub'), undefined);
});

// A tiny module: its fact is whether a path exists; the overlay says what earlier tasks would make of it.
const probeModule = (calls: string[]) =>
  defineModule<{ path: string }, { exists: boolean; predicted?: boolean }>({
    name: 'probe_test',
    description: 'test module',
    args: () => z.object({ path: z.string() }),
    async facts(ctx, a) {
      calls.push('facts');
      const r = await ctx.run(['test', '-e', a.path], { okExit: 'any' });
      return { exists: r.rc === 0 };
    },
    overlay(f, a, predicted) {
      calls.push('overlay');
      const p = pathSlot.get(predicted, a.path);
      return p ? { exists: p.exists, predicted: true } : f;
    },
    plan(f, a) {
      calls.push('plan');
      if (f.exists) return { changes: [], msg: `${a.path} exists${f.predicted ? ' (predicted)' : ''}` };
      return {
        changes: [{ description: `create ${a.path}`, argv: ['true'] }],
        predict: [pathSlot.entry(a.path, { exists: true, type: 'file' })],
      };
    },
  });

test('runModule calls overlay only in check mode, between facts and plan, and stores the plan’s predictions', async () => {
  const conn = new LocalConnection();
  const missing = '/nonexistent-phx-predictions-test/x';
  const calls: string[] = [];
  const mod = probeModule(calls);

  const real = await runModule(mod, { path: missing }, createModuleContext({ host: 'local', conn }));
  assert.equal(real.changed, true);
  assert.deepEqual(calls, ['facts', 'plan'], 'a real run never overlays');

  calls.length = 0;
  const predicted = new Predictions();
  const ctx = createModuleContext({ host: 'local', conn, check: true, predicted });
  const first = await runModule(mod, { path: missing }, ctx);
  assert.equal(first.changed, true);
  assert.deepEqual(calls, ['facts', 'overlay', 'plan']);
  assert.deepEqual(pathSlot.get(predicted, missing + '/'), { exists: true, type: 'file' }, 'predicted for later tasks');

  const second = await runModule(mod, { path: missing }, ctx);
  assert.equal(second.changed, false, 'the next task plans against the prediction');
  assert.equal(second.msg, `${missing} exists (predicted)`);

  calls.length = 0;
  const realAgain = await runModule(mod, { path: missing }, createModuleContext({ host: 'local', conn, predicted }));
  assert.equal(realAgain.changed, true, 'a real run ignores predictions');
  assert.deepEqual(calls, ['facts', 'plan']);
});

test('overlayProbe: a partial prediction merges into an existing path, a full one replaces, globs only for plain paths', () => {
  const r: ProbeResult = {
    paths: [
      { exists: true, type: 'file', mode: 0o644, uid: 0, size: 3 },
      { exists: true, type: 'file', size: 9 },
      { exists: false },
    ],
    users: new Map(),
    groups: new Map(),
    globs: [false, false],
    request: { paths: [{ path: '/etc/a' }, { path: '/srv/d/f' }, { path: '/new' }], globs: ['/new/', '/new*'] },
  };
  const p = Predictions.of([
    pathSlot.entry('/etc/a', { exists: true, mode: 0o600 }),
    pathSlot.entry('/srv/d', { exists: false }),
    pathSlot.entry('/new/', { exists: true, type: 'directory' }),
  ]);
  const o = overlayProbe(r, p);
  assert.deepEqual(o.paths, [
    { exists: true, type: 'file', mode: 0o600, uid: 0, size: 3 },
    { exists: false },
    { exists: true, type: 'directory' },
  ]);
  assert.deepEqual(o.globs, [true, false], 'a pattern is not predicted');
  assert.equal(overlayProbe(r, new Predictions()), r, 'nothing predicted: the answer as is');
});
