// template's newline_sequence in Ansible's forms: lib/ansible/plugins/action/template.py
// maps the escaped spellings ("\\n", "\\r", "\\r\\n": what single-quoted YAML gives)
// to the real sequences before rendering.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import template from '../modules/template.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir = '';
before(() => (dir = tempDir()));
after(() => removeDir(dir));

describe('template: newline_sequence', () => {
  it("'\\r\\n' as YAML's single quotes give it (4 characters) and as real CR LF", async () => {
    writeFileSync(join(dir, 'a.j2'), 'one\ntwo\n');
    for (const seq of ['\\r\\n', '\r\n']) {
      const dest = join(dir, `out-${seq.length}`);
      const r = await run(template, { src: 'a.j2', dest, newline_sequence: seq }, { baseDir: dir });
      assert.equal(r.result.failed, undefined, String(r.result.msg));
      assert.equal(readFileSync(dest, 'utf8'), 'one\r\ntwo\r\n');
    }
    assert.ok(argErrors(template, { src: 'a.j2', dest: '/x', newline_sequence: '\\t' }).length > 0);
  });
});
