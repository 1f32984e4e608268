// stat's get_mime, as Ansible's lib/ansible/modules/stat.py: `file --mime-type
// --mime-encoding <path>` on the host, split at the last ':' into mimetype and
// charset ('unknown' when file fails); read in the same round trip as the stat.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import stat, { parseMime } from '../modules/stat.js';
import { removeDir, run, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

describe('stat: get_mime', () => {
  it('mimetype and charset of a real file, one round trip; get_mime false leaves them out', async () => {
    const p = join(dir, 'a: b.txt');
    writeFileSync(p, 'hello\n');
    const r = await run(stat, { path: p });
    const st = r.result.stat as Record<string, unknown>;
    assert.equal(st.mimetype, 'text/plain');
    assert.equal(st.charset, 'us-ascii');
    assert.equal(r.roundTrips, 1);
    const off = (await run(stat, { path: p, get_mime: false })).result.stat as Record<string, unknown>;
    assert.equal(off.mimetype, undefined);
    const missing = (await run(stat, { path: join(dir, 'nope') })).result.stat as Record<string, unknown>;
    assert.deepEqual(missing, { exists: false });
  });
  it('parses file’s output at the last colon; a failure is unknown', () => {
    assert.deepEqual(parseMime({ rc: 0, stdout: '/x:y: application/json; charset=utf-8\n' }), {
      mimetype: 'application/json',
      charset: 'utf-8',
    });
    assert.deepEqual(parseMime({ rc: 127, stdout: '' }), { mimetype: 'unknown', charset: 'unknown' });
  });
});
