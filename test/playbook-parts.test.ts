// The loader's small parts: Ansible's inline key=value splitting and the
// typo distance behind "did you mean".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKv, splitArgs, unquote } from '../src/playbook/kv.js';
import { editDistance, nearest } from '../src/playbook/suggest.js';

test('splitArgs keeps quoted text and {{ templates }} with spaces in one token', () => {
  assert.deepEqual(
    splitArgs(`msg="a b" path={{ base }}/x  line='it''s' x={{ a | b }}`).map((t) => t.raw),
    ['msg="a b"', 'path={{ base }}/x', "line='it''s'", 'x={{ a | b }}'],
  );
  assert.deepEqual(
    splitArgs('  a   b ').map((t) => [t.raw, t.offset]),
    [
      ['a', 2],
      ['b', 6],
    ],
  );
  assert.deepEqual(splitArgs(''), []);
});

test('parseKv: pairs with unquoted values and where they start; the rest is free text', () => {
  const { pairs, free } = parseKv('echo hi chdir="/srv/my dir" creates=/x');
  assert.deepEqual(
    pairs.map((p) => [p.key, p.value, p.valueOffset]),
    [
      ['chdir', '/srv/my dir', 15],
      ['creates', '/x', 36],
    ],
  );
  assert.deepEqual(
    free.map((t) => t.raw),
    ['echo', 'hi'],
  );
  assert.equal(unquote('"say \\"hi\\""'), 'say "hi"');
  assert.equal(unquote("'single'"), 'single');
  assert.equal(unquote('"unbalanced'), '"unbalanced');
});

test('editDistance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('when', 'whne'), 1);
  assert.equal(editDistance('when', 'whn'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('file', 'file'), 0);
});

test('nearest suggests only plausible typos', () => {
  assert.equal(nearest('whn', ['when', 'with_items', 'name']), 'when');
  assert.equal(nearest('Become', ['become', 'become_user']), 'become');
  assert.equal(nearest('ignore_error', ['ignore_errors', 'ignore_unreachable']), 'ignore_errors');
  assert.equal(nearest('completely_different', ['when', 'name']), undefined);
  assert.equal(nearest('ab', ['xy']), undefined);
});
