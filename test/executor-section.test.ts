// Section: which hosts a section of a play (tasks, block, rescue, always, handler) runs on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HostState } from '../src/executor/host.js';
import { Section } from '../src/executor/section.js';

const hosts = (...names: string[]) => names.map((n) => new HostState(n, {}));
const names = (hs: readonly HostState[]) => hs.map((h) => h.name);
/** what the executor records when a task fails on a host (not ignored) */
const fail = (h: HostState) => {
  h.failures++;
  h.counters.failed++;
};

describe('Section: the play and its blocks', () => {
  it('the play runs on hosts that have not failed, are reachable and have not ended the play', () => {
    const [a, b, c, d] = hosts('a', 'b', 'c', 'd');
    const play = Section.play([a, b, c, d]);
    fail(b);
    c.unreachable = true;
    d.endedPlay = true;
    assert.deepEqual(names(play.running()), ['a']);
  });

  it('a block takes the hosts still running; a host that fails there leaves it', () => {
    const [a, b, c] = hosts('a', 'b', 'c');
    const play = Section.play([a, b, c]);
    fail(c);
    const body = play.block();
    assert.deepEqual(names(body.hosts), ['a', 'b']);
    fail(a);
    assert.deepEqual(names(body.running()), ['b']);
    assert.equal(body.failedHere(a), true);
    assert.equal(body.failedHere(b), false);
  });

  it('rescue runs on the hosts that failed in the block; a rescued host is not failed afterwards', () => {
    const [a, b] = hosts('a', 'b');
    const body = Section.play([a, b]).block();
    fail(a);
    const rescue = body.rescue();
    assert.deepEqual(names(rescue.running()), ['a']);
    assert.equal(a.failed, false);
    assert.equal(a.counters.failed, 0, 'the recap counts a rescued failure as rescued, not failed');
    assert.equal(rescue.failedHere(a), false);
  });

  it('a host whose rescue fails too leaves the rescue and stays failed', () => {
    const [a] = hosts('a');
    const body = Section.play([a]).block();
    fail(a);
    const rescue = body.rescue();
    fail(a);
    assert.deepEqual(rescue.running(), []);
    assert.equal(rescue.failedHere(a), true);
    assert.equal(a.failed, true);
  });

  it('rescue leaves out unreachable hosts', () => {
    const [a] = hosts('a');
    const body = Section.play([a]).block();
    a.unreachable = true;
    assert.deepEqual(body.rescue().hosts, []);
  });

  it('always runs on hosts that failed in the block, stops a host at a failure of its own, and keeps the failure', () => {
    const [a, b, c] = hosts('a', 'b', 'c');
    const body = Section.play([a, b, c]).block();
    fail(a);
    c.unreachable = true;
    const always = body.always();
    assert.deepEqual(names(always.running()), ['a', 'b']);
    fail(b);
    assert.deepEqual(names(always.running()), ['a']);
    fail(a);
    assert.deepEqual(always.running(), []);
    assert.equal(a.failed, true);
  });

  it('a block inside always: its rescue takes back only its own failure', () => {
    const [a] = hosts('a');
    const outer = Section.play([a]).block();
    fail(a);
    const inner = outer.always().block();
    assert.deepEqual(names(inner.running()), ['a']);
    fail(a);
    const rescue = inner.rescue();
    assert.deepEqual(names(rescue.running()), ['a']);
    assert.equal(a.failed, true, 'the failure of the outer block stands');
  });

  it('an include group runs on as part of its section', () => {
    const [a, b] = hosts('a', 'b');
    const always = Section.play([a, b]).block();
    fail(a);
    const group = always.always().only([a]);
    assert.deepEqual(names(group.running()), ['a']);
    fail(a);
    assert.deepEqual(group.running(), []);
  });
});

describe('Section: what counts as failed for max_fail_percentage', () => {
  it('always does not see the failure it runs after until it is over; the play sees it', () => {
    const [a, b, c] = hosts('a', 'b', 'c');
    const play = Section.play([a, b, c]);
    const body = play.block();
    fail(a);
    assert.equal(body.seesFailed(a), true);
    const always = body.always();
    assert.equal(always.seesFailed(a), false);
    assert.equal(always.only([b]).seesFailed(a), false, 'an include group asks the section it runs in');
    fail(b);
    assert.equal(always.seesFailed(b), true);
    assert.equal(play.seesFailed(a), true);
    assert.equal(always.seesFailed(c), false);
  });
});

describe('Section: handlers', () => {
  const notified = (h: HostState, ...topics: string[]) => topics.forEach((t) => h.notified.add(t));
  const of = (topics: string[]) => (h: HostState) => topics.some((t) => h.notified.has(t));

  it('a handler runs on the hosts that notified it and did not fail', () => {
    const [a, b, c, d] = hosts('a', 'b', 'c', 'd');
    const play = Section.play([a, b, c, d]);
    notified(a, 'restart');
    notified(b, 'restart');
    notified(c, 'reload');
    notified(d, 'other topic of restart');
    fail(b);
    assert.deepEqual(names(play.handler(of(['restart']), false).running()), ['a']);
    assert.deepEqual(names(play.handler(of(['restart', 'other topic of restart']), false).hosts), ['a', 'd']);
  });

  it('forced, a handler runs on failed hosts too, never on unreachable ones', () => {
    const [a, b, c] = hosts('a', 'b', 'c');
    const play = Section.play([a, b, c]);
    for (const h of [a, b, c]) notified(h, 'restart');
    fail(a);
    c.unreachable = true;
    const handler = play.handler(of(['restart']), true);
    assert.deepEqual(names(handler.running()), ['a', 'b']);
    fail(b);
    assert.deepEqual(names(handler.running()), ['a'], 'a failure of the handler itself stops the host');
  });

  it('flushed inside always, a handler runs on the hosts that run there', () => {
    const [a] = hosts('a');
    const body = Section.play([a]).block();
    notified(a, 'restart');
    fail(a);
    assert.deepEqual(
      names(
        body
          .always()
          .handler(of(['restart']), false)
          .running(),
      ),
      ['a'],
    );
  });
});
