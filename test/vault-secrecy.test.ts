// How a vault secret is followed (src/vault/secrecy.ts): a read through the template
// renderer or the expression evaluator, directly, through a helper or a var whose
// template uses it, marks the task; other reads do not; output text is masked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateCondition } from '../src/expr/index.js';
import { renderValue } from '../src/template/index.js';
import {
  MASK,
  maskDeep,
  maskSecrets,
  markSecretContainers,
  markSecretData,
  registerSecretText,
  secretUsed,
  watchSecretUse,
} from '../src/vault/secrecy.js';

registerSecretText('pw-canary-1');
const creds = { user: 'someone', token: 'tok-canary-2' };
markSecretData(creds);
// what a task that read a secret registered: its text is secret, its flags are not
const registered = { changed: true, stdout: 'derived output', rc: 0 };
markSecretContainers(registered);
const vars = { pw: 'pw-canary-1', creds, url: 'db://u:{{ pw }}@h', other: 'plain', n: 3, r: registered };

const reads = (fn: () => unknown): boolean =>
  watchSecretUse(() => {
    fn();
    return secretUsed();
  });

describe('a read of a secret is noticed', () => {
  const templates: [string, boolean][] = [
    ['{{ pw }}', true],
    ['{{ b64encode pw }}', true],
    ['x-{{ upper pw }}-y', true],
    ['{{ url }}', true],
    ['{{ creds.user }}', true],
    ['{{ other }} {{ n }}', false],
    ['{{ r.stdout }}', true],
    ['{{ r }}', true],
    ['{{ r.changed }} {{ r.rc }}', false],
  ];
  for (const [t, expected] of templates)
    it(`template ${t}: ${expected ? 'secret' : 'not secret'}`, () =>
      assert.equal(
        reads(() => renderValue(t, vars)),
        expected,
      ));
  it('conditions too', () => {
    assert.equal(
      reads(() => evaluateCondition('pw == "x"', vars)),
      true,
    );
    assert.equal(
      reads(() => evaluateCondition('other == "x"', vars)),
      false,
    );
  });
  it('outside a watched task nothing is noticed, and watches do not leak into each other', async () => {
    renderValue('{{ pw }}', vars);
    assert.equal(secretUsed(), false);
    const [a, b] = await Promise.all([
      watchSecretUse(async () => {
        await new Promise((r) => setTimeout(r, 5));
        renderValue('{{ pw }}', vars);
        await new Promise((r) => setTimeout(r, 5));
        return secretUsed();
      }),
      watchSecretUse(async () => {
        await new Promise((r) => setTimeout(r, 10));
        renderValue('{{ other }}', vars);
        return secretUsed();
      }),
    ]);
    assert.deepEqual([a, b], [true, false]);
  });
});

describe('masking', () => {
  it('every secret text is replaced, inside longer text and nested data; the rest is left alone', () => {
    assert.equal(maskSecrets('a pw-canary-1 b tok-canary-2'), `a ${MASK} b ${MASK}`);
    const e = { type: 'x', result: { msg: ['see pw-canary-1'], ok: 1 }, keep: 'plain' };
    assert.deepEqual(maskDeep(e), { type: 'x', result: { msg: [`see ${MASK}`], ok: 1 }, keep: 'plain' });
    const clean = { a: ['b'] };
    assert.equal(maskDeep(clean), clean);
  });
  it('a secret shorter than 4 characters is not masked in text (it would garble the output)', () => {
    registerSecretText('ab');
    assert.equal(maskSecrets('tab cab'), 'tab cab');
  });
});
