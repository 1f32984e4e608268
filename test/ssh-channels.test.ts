// Session slots (src/connection/ssh-channels.ts): one slot stays free for SFTP,
// a channel beyond the rest waits for a release, and giving a slot back twice
// frees it once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelSlots, retryDelayMs } from '../src/connection/ssh-channels.js';

test('MaxSessions 3 leaves 2 slots for channels; the third waits until one is given back', async () => {
  const slots = new ChannelSlots(3);
  const first = await slots.acquire();
  await slots.acquire();
  assert.equal(slots.full, true);
  let third = false;
  const waiting = slots.acquire().then((release) => ((third = true), release));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, 'the third channel waits');
  first();
  first(); // twice: still one slot
  const release3 = await waiting;
  assert.equal(third, true);
  assert.equal(slots.full, true, 'the double release did not free a second slot');
  release3();
  assert.equal(slots.full, false);
});

test("the default is OpenSSH's MaxSessions 10, and a server allowing 1 session still gets one channel", async () => {
  const ten = new ChannelSlots(undefined);
  for (let i = 0; i < 9; i++) await ten.acquire();
  assert.equal(ten.full, true);
  const one = new ChannelSlots(1);
  assert.equal(one.full, false);
  one.take();
  assert.equal(one.full, true);
});

test('retries wait a little longer each time, at most 100 ms', () => {
  assert.deepEqual([1, 2, 5, 10, 49].map(retryDelayMs), [10, 20, 50, 100, 100]);
});
