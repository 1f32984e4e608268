// src/sleep.ts: the one pause helper; an abort ends it early without a rejection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { sleep } from '../src/sleep.js';

test('sleep waits about the time asked', async () => {
  const started = performance.now();
  await sleep(60);
  assert.ok(performance.now() - started >= 50, 'returned too early');
});

test('an abort during the sleep ends it early, and it resolves', async () => {
  const abort = new AbortController();
  const started = performance.now();
  setTimeout(() => abort.abort(), 20);
  await sleep(10_000, abort.signal);
  assert.ok(performance.now() - started < 5_000, 'the abort did not end the sleep');
});

test('a signal aborted beforehand ends the sleep at once', async () => {
  const abort = new AbortController();
  abort.abort();
  const started = performance.now();
  await sleep(10_000, abort.signal);
  assert.ok(performance.now() - started < 5_000);
});

test('a finished sleep leaves no listener on a long-lived signal', async () => {
  const abort = new AbortController();
  let added = 0;
  let removed = 0;
  const signal = abort.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
  signal.removeEventListener = ((...a: Parameters<typeof remove>) => (removed++, remove(...a))) as typeof remove;
  for (let i = 0; i < 3; i++) await sleep(1, signal);
  assert.equal(added, 3);
  assert.equal(removed, 3);
});
