// More hosts at work than Node's default of 10 listeners: every running task listens to the
// run's Ctrl-C signal, which must not print a MaxListenersExceededWarning (src/cli/commands.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';

describe('a run with more than 10 hosts at once', () => {
  let ws: ReturnType<typeof workspace>;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('prints no listener-leak warning', async () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `h${i + 1}`);
    ws.write('inv.ini', localInventory(hosts));
    ws.write('pb.yml', '- hosts: all\n  tasks:\n    - command: "true"\n      changed_when: false\n');
    const r = await runCli(['-i', ws.path('inv.ini'), '-f', '12', ws.path('pb.yml')], { cwd: ws.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(Object.keys(recap(r.stdout)).length, 12);
    assert.doesNotMatch(r.stdout + r.stderr, /MaxListenersExceeded|memory leak/);
  });
});
