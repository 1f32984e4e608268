// Shared by the unit tests of user-facing errors (test/expr, test/template).
import assert from 'node:assert/strict';
import { PhxError } from '../../src/errors.js';

/** Asserts that fn throws a PhxError whose message matches every pattern; returns it. */
export function throwsPhx(fn: () => unknown, ...patterns: RegExp[]): PhxError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PhxError, `expected PhxError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return e;
  }
  assert.fail('expected an error');
}
