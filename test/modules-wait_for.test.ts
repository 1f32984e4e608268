import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import waitFor from '../modules/wait_for.js';
import { argErrors, removeDir, run, tempDir } from './modules-harness.js';

let dir: string;
before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

function listen(port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.end());
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe('wait_for', () => {
  it('an open port: ok at once, one round trip, also in check mode', async () => {
    const s = await listen();
    try {
      const r = await run(waitFor, { port: portOf(s), timeout: 5 });
      const { elapsed, ...rest } = r.result;
      assert.deepEqual(rest, { changed: false, state: 'started', port: portOf(s) });
      assert.ok((elapsed as number) <= 1, 'no waiting (a loaded machine may take a moment to fork)');
      assert.equal(r.roundTrips, 1);
      const check = await run(waitFor, { port: portOf(s), timeout: 5 }, { check: true });
      assert.deepEqual({ ...check.result, elapsed: 0 }, { ...r.result, elapsed: 0 });
    } finally {
      await close(s);
    }
  });

  it('waits for a port that opens later, in one remote loop', async () => {
    const probe = await listen();
    const port = portOf(probe);
    await close(probe);
    let s: Server | undefined;
    const timer = setTimeout(() => {
      void listen(port).then((server) => (s = server));
    }, 1200);
    try {
      const r = await run(waitFor, { host: '127.0.0.1', port, timeout: 10, sleep: 0.2 });
      assert.equal(r.result.failed, undefined, String(r.result.msg));
      assert.ok((r.result.elapsed as number) >= 1);
      assert.equal(r.roundTrips, 1);
    } finally {
      clearTimeout(timer);
      if (s) await close(s);
    }
  });

  it("a closed port times out with Ansible's message; stopped succeeds", async () => {
    const probe = await listen();
    const port = portOf(probe);
    await close(probe);
    const r = await run(waitFor, { port, timeout: 1, sleep: 0.3 });
    assert.equal(r.result.failed, true);
    assert.equal(r.result.msg, `Timeout when waiting for 127.0.0.1:${port}`);
    assert.ok((r.result.elapsed as number) >= 1);
    const custom = await run(waitFor, { port, timeout: 0, msg: 'db never came up' });
    assert.equal(custom.result.msg, 'db never came up');
    const stopped = await run(waitFor, { port, state: 'stopped', timeout: 2 });
    assert.equal(stopped.result.failed, undefined);
  });

  it('files: appears later with a matching line; absent; hostile names', async () => {
    const p = join(dir, "log $(touch x) 'q'");
    const timer = setTimeout(() => writeFileSync(p, 'starting\nready on port 80\n'), 800);
    try {
      const r = await run(waitFor, { path: p, search_regex: 'ready on port \\d+', timeout: 10, sleep: 0.2 });
      assert.equal(r.result.failed, undefined, String(r.result.msg));
      assert.equal(r.result.path, p);
    } finally {
      clearTimeout(timer);
    }
    const miss = await run(waitFor, { path: p, search_regex: 'never', timeout: 0 });
    assert.equal(miss.result.msg, `Timeout when waiting for search string never in ${p}`);
    const present = await run(waitFor, { path: p, state: 'absent', timeout: 0 });
    assert.equal(present.result.msg, `Timeout when waiting for ${p} to be absent.`);
    unlinkSync(p);
    const gone = await run(waitFor, { path: p, state: 'absent', timeout: 0 });
    assert.equal(gone.result.failed, undefined);
    const none = await run(waitFor, { path: join(dir, 'nope'), timeout: 0 });
    assert.equal(none.result.msg, `Timeout when waiting for file ${join(dir, 'nope')}`);
  });

  it('neither port nor path: sleeps for timeout, ok', async () => {
    const r = await run(waitFor, { timeout: 1, sleep: 0.2 });
    assert.equal(r.result.failed, undefined);
    assert.ok((r.result.elapsed as number) >= 1 && (r.result.elapsed as number) <= 2);
  });

  it('rejects bad arguments', () => {
    assert.match(argErrors(waitFor, { port: 70000 }).join(), /port/);
    assert.match(argErrors(waitFor, { port: 22, path: '/x' }).join(), /mutually exclusive/);
    assert.match(argErrors(waitFor, { port: 22, search_regex: 'x' }).join(), /search_regex needs path/);
    assert.match(argErrors(waitFor, { port: 22, state: 'drained' }).join(), /state/);
    assert.match(argErrors(waitFor, { port: 22, timout: 3 }).join(), /timout/);
  });
});
