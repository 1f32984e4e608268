// runModule's verify: `true` (re-plan must be empty), or a Verify with the
// steady arguments, the not-converged message and the changes a converged host
// still needs (what pct's power states use instead of a custom apply).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { LocalConnection } from '../src/connection/local.js';
import { defineModule, type ModuleDefinition, type Verify } from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';

// A "light": the file holds its state; `blink` is turned on once, and becomes `on` after.
const args = z.object({ file: z.string(), state: z.enum(['on', 'off', 'blink']), sticky: z.boolean().default(false) });
type Args = z.output<typeof args>;

const light = (verify: boolean | Verify<Args>): ModuleDefinition<Args, { state: string }> =>
  defineModule<Args, { state: string }>({
    name: 'light',
    description: 'test module',
    args: () => args,
    facts: (_ctx, a) => Promise.resolve({ state: existsSync(a.file) ? readFileSync(a.file, 'utf8') : 'off' }),
    plan(f, a) {
      const want = a.state === 'blink' ? 'on' : a.state;
      if (a.state !== 'blink' && f.state === want) return { changes: [] };
      // a sticky light refuses to change: the write goes nowhere
      const value = a.sticky ? f.state : want;
      return {
        changes: [{ description: `turn ${want}`, argv: ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', value, a.file] }],
      };
    },
    verify,
  });

const conn = new LocalConnection();
const run = (def: ModuleDefinition<Args, { state: string }>, raw: Record<string, unknown>, log: string[] = []) =>
  runModule(def, args.parse(raw), createModuleContext({ host: 'local', conn, onLog: (m) => log.push(m) }));

test('verify: true fails when the host did not converge; a Verify may name the steady state and the message', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-verify-'));
  try {
    const file = join(dir, 'light');
    const ok = await run(light(true), { file, state: 'on' });
    assert.equal(ok.failed, undefined, String(ok.msg));
    assert.equal(readFileSync(file, 'utf8'), 'on');

    const stuck = await run(light(true), { file, state: 'off', sticky: true });
    assert.equal(stuck.failed, true);
    assert.equal(stuck.msg, 'host did not converge after apply: turn off');

    // blink always changes: verified as is, it never converges; its steady state is `on`
    assert.equal((await run(light(true), { file, state: 'blink' })).failed, true);
    const steady: Verify<Args> = { steady: (a) => ({ ...a, state: a.state === 'blink' ? 'on' : a.state }) };
    const blink = await run(light(steady), { file, state: 'blink' });
    assert.equal(blink.failed, undefined, String(blink.msg));
    assert.equal(blink.changed, true);

    const named = await run(
      light({ notConverged: (a, again) => `light ${a.state} is stuck: ${again.changes.length} change left` }),
      { file, state: 'off', sticky: true },
    );
    assert.equal(named.msg, 'light off is stuck: 1 change left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify: settle changes run once after convergence, only when there are some', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'phx-verify-'));
  try {
    const file = join(dir, 'light');
    const marker = join(dir, 'settled');
    const settle: Verify<Args> = {
      settle: (a, again) =>
        a.state === 'on' && again.changes.length === 0
          ? [{ description: 'mark settled', argv: ['sh', '-c', 'echo x >> "$1"', 'sh', marker] }]
          : [],
    };
    const log: string[] = [];
    const r = await run(light(settle), { file, state: 'on' }, log);
    assert.equal(r.failed, undefined, String(r.msg));
    assert.equal(readFileSync(marker, 'utf8'), 'x\n');
    assert.match(log.join('\n'), /still needed: mark settled/);
    // nothing changed: no verify, no settle
    assert.equal((await run(light(settle), { file, state: 'on' })).changed, false);
    assert.equal(readFileSync(marker, 'utf8'), 'x\n');
    writeFileSync(file, 'on');
    assert.equal((await run(light(settle), { file, state: 'off' })).failed, undefined);
    assert.equal(readFileSync(marker, 'utf8'), 'x\n', 'settle returned nothing for off');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
