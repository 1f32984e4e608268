// tempfile, pause and ping, run for real on a local connection (tempfile,
// ping) or on the controller (pause). Following Ansible's
// lib/ansible/modules/tempfile.py (prefix 'ansible.', state file/directory,
// always changed, result path), lib/ansible/plugins/action/pause.py (stdout
// "Paused for N seconds", user_input, start/stop/delta) and
// lib/ansible/modules/ping.py (ping: data, 'crash' fails).
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pause from '../modules/pause.js';
import ping from '../modules/ping.js';
import tempfile, { mktempArgv } from '../modules/tempfile.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

describe('tempfile', () => {
  it('file and directory in path, prefix and suffix; check mode makes nothing', async () => {
    const check = await run(tempfile, { path: dir, suffix: '.conf' }, { check: true });
    assert.equal(check.result.changed, true);
    assert.equal(check.result.path, '');
    assert.deepEqual(readdirSync(dir), []);
    const f = await run(tempfile, { path: dir, suffix: '.conf' });
    const path = String(f.result.path);
    assert.equal(f.result.changed, true);
    assert.match(basename(path), /^ansible\.\w{10}\.conf$/);
    assert.equal(statSync(path).mode & 0o7777, 0o600);
    const d = await run(tempfile, { path: dir, state: 'directory', prefix: 'phx-' });
    assert.ok(statSync(String(d.result.path)).isDirectory());
    assert.equal(statSync(String(d.result.path)).mode & 0o7777, 0o700);
    const again = await run(tempfile, { path: dir, suffix: '.conf' });
    assert.notEqual(again.result.path, path, 'every run makes a new one, as Ansible');
  });
  it('a prefix or suffix cannot leave the directory or become an option', () => {
    assert.ok(argErrors(tempfile, { prefix: '../x' }).length > 0);
    assert.ok(argErrors(tempfile, { path: 'rel' }).length > 0);
    assert.deepEqual(mktempArgv(tempfile.args.parse({ prefix: '-d' })), ['mktemp', '--tmpdir', '--', '-dXXXXXXXXXX']);
  });
});

describe('pause', () => {
  it('waits, in check mode too, and registers Ansible’s fields', async () => {
    const r = await run(pause, { seconds: 0.2 }, { check: true });
    assert.equal(r.result.changed, false);
    assert.equal(r.result.stdout, 'Paused for 0.2 seconds');
    assert.equal(r.result.user_input, '');
    assert.equal(r.roundTrips, 0, 'the host is not contacted');
    assert.ok(new Date(`${String(r.result.stop)}Z`) >= new Date(`${String(r.result.start)}Z`));
  });
  it('seconds and minutes are exclusive; a prompt or no argument at all is a question (test/pause-prompt.test.ts)', () => {
    assert.deepEqual(argErrors(pause, { prompt: 'Continue?' }), []);
    assert.deepEqual(argErrors(pause, {}), []);
    assert.ok(argErrors(pause, { seconds: 1, minutes: 1 }).length > 0);
  });
});

describe('ping', () => {
  it('pong, data, crash', async () => {
    const r = await run(ping, {});
    assert.deepEqual({ changed: r.result.changed, ping: r.result.ping }, { changed: false, ping: 'pong' });
    assert.equal(r.roundTrips, 1);
    assert.equal((await run(ping, { data: 'hi' })).result.ping, 'hi');
    assert.equal((await run(ping, { data: 'crash' })).result.failed, true);
  });
});
