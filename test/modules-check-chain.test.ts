// Check mode across tasks: what an earlier task would create is what a later
// task plans on (ctx.predicted), so a --check run of a fresh host predicts the
// whole play instead of failing at the first missing directory.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import command from '../modules/command.js';
import copy from '../modules/copy.js';
import file from '../modules/file.js';
import lineinfile from '../modules/lineinfile.js';
import statModule from '../modules/stat.js';
import type { ModuleDefinition } from '../src/module.js';
import { comparable, removeDir, run, snapshot, tempDir } from './modules-harness.js';
import { Predictions } from '../src/predictions.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

type Step = [ModuleDefinition, Record<string, unknown>];

/** The steps in check mode (one chain of predictions; nothing may change on disk), then for real. */
async function checkThenRun(steps: Step[]) {
  const snap = snapshot(dir);
  const predicted = new Predictions();
  const checks = [];
  for (const [def, args] of steps) checks.push((await run(def, args, { check: true, predicted })).result);
  assert.deepEqual(snapshot(dir), snap, 'check mode changed nothing');
  const reals = [];
  for (const [def, args] of steps) reals.push((await run(def, args)).result);
  return { checks, reals };
}

describe('check mode chain', () => {
  it('directory → copy into it → lineinfile on the copy → stat → file absent: predicted, nothing touched, same as the real run', async () => {
    const etc = join(dir, 'new', 'etc');
    const conf = join(etc, 'app.conf');
    const steps: Step[] = [
      [file, { path: etc, state: 'directory', mode: '0750' }],
      [copy, { dest: conf, content: 'port = 80\n', mode: '0640' }],
      [lineinfile, { path: conf, regexp: '^port', line: 'port = 8080' }],
      [command, { cmd: 'false', creates: conf }],
      [statModule, { path: conf }],
      [file, { path: conf, state: 'touch', modification_time: 'preserve', access_time: 'preserve', mode: '0600' }],
      [file, { path: join(etc, 'gone'), state: 'absent' }],
    ];
    const { checks, reals } = await checkThenRun(steps);
    for (let i = 0; i < steps.length; i++) {
      assert.equal(reals[i].failed, undefined, `step ${i}: ${String(reals[i].msg)}`);
      const drop = i === 4 ? ['stat'] : [];
      assert.deepEqual(comparable(checks[i], drop), comparable(reals[i], drop), `step ${i} predicted`);
    }
    const st = checks[4].stat as Record<string, unknown>;
    assert.equal(st.exists, true);
    assert.equal(st.size, (reals[4].stat as Record<string, unknown>).size);
    assert.equal(st.checksum, (reals[4].stat as Record<string, unknown>).checksum);
    assert.deepEqual(
      checks.map((r) => r.changed),
      [true, true, true, false, false, true, false],
    );
  });

  it('directory removed → copy onto a file that was in it, lineinfile creating it again: predicted as the real run', async () => {
    // the copy's read of an existing dest only knows its parent exists: the prediction still removes it
    const etc = join(dir, 'old', 'etc');
    const conf = join(etc, 'app.conf');
    mkdirSync(etc, { recursive: true });
    writeFileSync(conf, 'port = 80\n');
    const steps: Step[] = [
      [file, { path: etc, state: 'absent' }],
      [copy, { dest: conf, content: 'port = 80\n' }],
      [lineinfile, { path: conf, line: 'port = 8080', create: true }],
    ];
    const { checks, reals } = await checkThenRun(steps);
    for (let i = 0; i < steps.length; i++) assert.deepEqual(comparable(checks[i]), comparable(reals[i]), `step ${i}`);
    assert.equal(reals[1].msg, `Destination directory ${etc} does not exist`);
    assert.equal(reals[2].changed, true);
  });
});
