// Ansible's `comment` filter (lib/ansible/plugins/filter/core.py, comment()),
// used by real templates as `{{ ansible_managed | comment }}` (the corpus items
// devsec-securetty and devsec-profile). The expected strings are what
// ansible-core 2.14 prints for the same expressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateExpression } from '../src/expr/index.js';

const e = (x: string) => evaluateExpression(x, { managed: 'Ansible managed' });

test('the styles, as Ansible renders them', () => {
  assert.equal(e("(managed ~ '\\nx\\n\\ny') | comment"), '#\n# Ansible managed\n# x\n#\n# y\n#');
  assert.equal(e("'a' | comment('c')"), '//\n// a\n//');
  assert.equal(e("'a' | comment('cblock')"), '/*\n *\n * a\n *\n */');
  assert.equal(e("'a' | comment('xml')"), '<!--\n -\n - a\n -\n-->');
  assert.equal(e("'a' | comment('erlang')"), '%\n% a\n%');
});

test('keyword arguments override each part', () => {
  assert.equal(e("'a' | comment(decoration='; ')"), ';\n; a\n;');
  assert.equal(e("'a' | comment(prefix='', postfix='')"), '# a\n');
  assert.equal(e("'a' | comment('plain', prefix_count=2, postfix_count=0)"), '#\n#\n# a');
});

test('an unknown style or argument is an error', () => {
  assert.throws(() => e("'a' | comment('rst')"), /unknown style 'rst'/);
  assert.throws(() => e("'a' | comment(decor='x')"), /unknown argument 'decor'/);
});
