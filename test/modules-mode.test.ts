// src/remote/mode.ts against the real chmod: every symbolic mode computed on
// the controller must be what chmod would make of the same starting bits.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyMode, formatMode, parseMode } from '../src/remote/mode.js';
import { removeDir, tempDir } from './modules-harness.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

const SYMBOLIC = [
  'u=rw,g=r,o=r',
  'u+x',
  'a-w',
  'g+X',
  'u=rwX,g=rX,o=',
  'o-rwx',
  '+x',
  'a=r',
  'u+s',
  'g+s,o+t',
  'g=u',
  'o=g-w',
  'u-x+w',
  'ug=rw',
  '=rx',
  'a+X,u-w',
];
const STARTS = [0o644, 0o755, 0o600, 0o4750, 0o2775, 0o1777, 0o000, 0o511];

describe('modes', () => {
  it('octal strings and YAML integers', () => {
    assert.deepEqual(parseMode('0644'), { kind: 'octal', value: 0o644 });
    assert.deepEqual(parseMode('644'), { kind: 'octal', value: 0o644 });
    assert.deepEqual(parseMode('2775'), { kind: 'octal', value: 0o2775 });
    assert.deepEqual(parseMode(0o640), { kind: 'octal', value: 0o640 });
    assert.equal(formatMode(0o4755), '4755');
    assert.equal(formatMode(0o44), '0044');
    assert.throws(() => parseMode('rw-r--r--'), /neither octal/);
    assert.throws(() => parseMode('0999'), /neither octal/);
    assert.throws(() => parseMode(0o17777), /out of range/);
  });

  for (const kind of ['file', 'directory'] as const) {
    it(`symbolic modes on a ${kind} match chmod`, () => {
      const p = join(dir, kind);
      if (kind === 'file') writeFileSync(p, '');
      else mkdirSync(p);
      for (const start of STARTS) {
        for (const sym of SYMBOLIC) {
          chmodSync(p, start);
          execFileSync('chmod', [sym, p]);
          const real = statSync(p).mode & 0o7777;
          const mine = applyMode(parseMode(sym), start, kind === 'directory');
          assert.equal(formatMode(mine), formatMode(real), `${formatMode(start)} ${sym} on a ${kind}`);
        }
      }
    });
  }
});
