// copy's local_follow (lib/ansible/plugins/action/copy.py: default true; _walk_dirs(topdir,
// local_follow=…) follows the links of a controller src directory, or with false records them as
// symlinks, which the host gets as links with the same target (state=link)).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import copy from '../modules/copy.js';
import { localInventory, recap, runCli, workspace } from './helpers/cli.js';
import { removeDir, run, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

describe('copy: local_follow', () => {
  it('true follows a link in src', async () => {
    writeFileSync(join(dir, 'real.txt'), 'data\n');
    symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'));
    const r = await run(copy, { src: 'link.txt', dest: join(dir, 'out.txt'), local_follow: true }, { baseDir: dir });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'data\n');
  });

  it('false: the links of a src directory are made as links on the host; a second run changes nothing', async () => {
    const ws = workspace({ 'files/tree/real.txt': 'data\n' });
    try {
      symlinkSync('real.txt', ws.path('files/tree/rel-link'));
      symlinkSync('/nonexistent/target', ws.path('files/tree/dangling'));
      mkdirSync(ws.path('files/tree/sub'));
      symlinkSync('../real.txt', ws.path('files/tree/sub/up'));
      ws.write('inv.ini', localInventory(['h1']));
      const pb = (follow: boolean) => `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { src: tree/, dest: ${ws.path(follow ? 'followed' : 'kept')}/, local_follow: ${follow} }
`;
      ws.write('kept.yml', pb(false));
      ws.write('followed.yml', pb(true));
      const check = await runCli(['-i', ws.path('inv.ini'), ws.path('kept.yml'), '--check'], { cwd: ws.dir });
      assert.equal(recap(check.stdout).h1.changed, 1, check.stdout + check.stderr);
      const r = await runCli(['-i', ws.path('inv.ini'), ws.path('kept.yml')], { cwd: ws.dir });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(readlinkSync(ws.path('kept/rel-link')), 'real.txt');
      assert.equal(readlinkSync(ws.path('kept/dangling')), '/nonexistent/target');
      assert.equal(readlinkSync(ws.path('kept/sub/up')), '../real.txt');
      assert.equal(readFileSync(ws.path('kept/sub/up'), 'utf8'), 'data\n');
      const again = await runCli(['-i', ws.path('inv.ini'), ws.path('kept.yml')], { cwd: ws.dir });
      assert.equal(recap(again.stdout).h1.changed, 0, again.stdout);
      // true (the default) follows: the link becomes a file with the target's bytes
      ws.write('followed.yml', pb(true).replace('tree/', 'tree/sub/'));
      const followed = await runCli(['-i', ws.path('inv.ini'), ws.path('followed.yml')], { cwd: ws.dir });
      assert.equal(followed.code, 0, followed.stdout + followed.stderr);
      assert.ok(lstatSync(ws.path('followed/up')).isFile());
    } finally {
      ws.cleanup();
    }
  });
});
