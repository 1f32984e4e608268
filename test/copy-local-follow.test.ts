// copy's local_follow (lib/ansible/plugins/action/copy.py: default true, links
// in a controller src are followed): true is what copy does; false (links
// copied as links) is refused before the run rather than ignored.
import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import copy from '../modules/copy.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

describe('copy: local_follow', () => {
  it('true follows a link in src; false is refused with the reason', async () => {
    writeFileSync(join(dir, 'real.txt'), 'data\n');
    symlinkSync(join(dir, 'real.txt'), join(dir, 'link.txt'));
    const r = await run(copy, { src: 'link.txt', dest: join(dir, 'out.txt'), local_follow: true }, { baseDir: dir });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'data\n');
    assert.ok(argErrors(copy, { src: 'x', dest: '/x', local_follow: false }).some((e) => /not supported/.test(e)));
  });
});
