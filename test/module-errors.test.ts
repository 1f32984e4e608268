// The one error channel: what a module throws and what the user then reads.
// A ModuleError (CommandFailed included) is the task's failed result; anything
// else is a bug in phx-play, reported as an internal error (stack at -vvv only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LocalConnection } from '../src/connection/local.js';
import type { Connection, ExecResult } from '../src/connection/types.js';
import { PhxError, UnreachableError } from '../src/errors.js';
import type { HostStatus, RunEvent } from '../src/events.js';
import { runPlaybooks } from '../src/executor/run.js';
import { loadInventory } from '../src/inventory/index.js';
import {
  CommandFailed,
  defineModule,
  InternalModuleError,
  ModuleError,
  type ModuleContext,
  type ModuleDefinition,
} from '../src/module.js';
import { createModuleContext, runModule } from '../src/module-runner.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { makeRegistry } from '../src/registry.js';
import { plainExecutorOptions } from './helpers/executor-options.js';

const noArgs = z.object({}).strict();

/** A module that fails in facts (or in apply, after planning one change) with what `fail` throws. */
function failing(name: string, fail: (ctx: ModuleContext) => Promise<never> | never, when: 'facts' | 'apply') {
  return defineModule({
    name,
    description: `test module: throws in ${when}`,
    args: () => noArgs,
    async facts(ctx) {
      if (when === 'facts') await fail(ctx);
      return {};
    },
    plan: () => ({ changes: [{ description: 'the change', apply: async (ctx) => void (await fail(ctx)) }] }),
  });
}

function context(conn: Connection = new LocalConnection()): ModuleContext {
  return createModuleContext({ host: 'localhost', conn });
}

const HOST_OUTPUT: ExecResult = { rc: 3, stdout: 'partial output\n', stderr: 'disk full\n' };

test('a ModuleError with a result: a failed result with rc, stdout and stderr, in facts and in apply', async () => {
  for (const when of ['facts', 'apply'] as const) {
    const def = failing(
      'quota',
      () => {
        throw new ModuleError('writing the quota failed', { result: HOST_OUTPUT });
      },
      when,
    );
    const r = await runModule(def, {}, context());
    assert.equal(r.failed, true, when);
    assert.equal(r.msg, 'writing the quota failed', when);
    assert.equal(r.rc, 3, when);
    assert.equal(r.stdout, 'partial output\n', when);
    assert.equal(r.stderr, 'disk full\n', when);
    assert.equal(r.changed, when === 'apply', 'a failure while applying keeps what the plan was doing');
  }
});

test('a ModuleError without a result: a failed result with its message and no invented rc/stdout/stderr', async () => {
  const def = failing(
    'lock',
    () => {
      throw new ModuleError('CT 101 is still locked (backup) after 5 s');
    },
    'apply',
  );
  const r = await runModule(def, {}, context());
  assert.equal(r.failed, true);
  assert.equal(r.msg, 'CT 101 is still locked (backup) after 5 s');
  for (const key of ['rc', 'stdout', 'stderr']) assert.equal(key in r, false, key);
});

test('a ModuleError with a hint: the hint is a line of the message', async () => {
  const def = failing(
    'agent',
    () => {
      throw new ModuleError('VM 100 has no QEMU guest agent configured', {
        hint: 'qm set 100 --agent 1, then restart the VM',
      });
    },
    'facts',
  );
  const r = await runModule(def, {}, context());
  assert.equal(r.failed, true);
  assert.equal(r.msg, 'VM 100 has no QEMU guest agent configured\nhint: qm set 100 --agent 1, then restart the VM');
});

test('CommandFailed is a ModuleError: a failing ctx.run becomes a failed result with the real rc/stdout/stderr', async () => {
  const failure = new CommandFailed(['false'], { rc: 1, stdout: '', stderr: '' });
  assert.ok(failure instanceof ModuleError);
  assert.equal(failure.message, 'false: exit code 1', 'the message format of CommandFailed stays');
  const def = failing('runner', (ctx) => ctx.runShell('echo out; echo err >&2; exit 4') as Promise<never>, 'facts');
  const r = await runModule(def, {}, context());
  assert.equal(r.failed, true);
  assert.equal(r.msg, 'echo out; echo err >&2; exit 4: err');
  assert.deepEqual([r.rc, r.stdout, r.stderr], [4, 'out\n', 'err\n']);
});

test('a plain TypeError from a module is an internal error naming the module, not a failed result', async () => {
  const def = failing(
    'buggy',
    () => {
      const facts = undefined as unknown as { size: number };
      return facts.size as never; // the kind of bug a module may have
    },
    'facts',
  );
  await assert.rejects(runModule(def, {}, context()), (e: unknown) => {
    assert.ok(e instanceof InternalModuleError);
    assert.match(e.message, /^internal error in module buggy: Cannot read properties of undefined .* — please report$/);
    assert.ok(e.original instanceof TypeError);
    assert.match(String(e.stack), /TypeError: Cannot read properties of undefined[^]*\n\s+at /, 'the stack of the bug');
    return true;
  });
});

test('the connection failing a command is the task failure, not a bug; unreachable and PhxError keep their channel', async () => {
  const broken = (error: Error): Connection => ({
    kind: 'ssh',
    connect: async () => {},
    close: async () => {},
    putFile: async () => {},
    getFile: () => Promise.resolve(null),
    exec: () => Promise.reject(error),
  });
  const def = failing('reader', (ctx) => ctx.run(['cat', '/etc/hostname']) as Promise<never>, 'facts');
  const refused = await runModule(def, {}, context(broken(new Error('ssh pve01: cannot start command: refused'))));
  assert.equal(refused.failed, true);
  assert.equal(refused.msg, 'ssh pve01: cannot start command: refused');
  await assert.rejects(runModule(def, {}, context(broken(new UnreachableError('ssh pve01: connection lost')))), {
    name: 'UnreachableError',
  });
  await assert.rejects(runModule(def, {}, context(broken(new PhxError('become: sudo wants a password')))), {
    name: 'PhxError',
  });
});

test("the executor's abort at a task timeout is neither a failed result nor an internal error", async () => {
  const abort = new AbortController();
  const ctx = createModuleContext({ host: 'localhost', conn: new LocalConnection(), signal: abort.signal });
  const def = failing('sleeper', (c) => c.runShell('sleep 5') as Promise<never>, 'facts');
  setTimeout(() => abort.abort(), 100);
  await assert.rejects(runModule(def, {}, ctx), { name: 'AbortError' });
});

/** Runs one task of `module` on localhost through the executor; returns the task's host_result. */
async function runTask(
  defs: ModuleDefinition[],
  module: string,
  verbosity: number,
): Promise<{ status: HostStatus; result: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'phx-module-errors-'));
  try {
    writeFileSync(join(dir, 'hosts.ini'), '[all]\nlocalhost ansible_connection=local\n');
    writeFileSync(
      join(dir, 'play.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: the task\n      ${module}: {}\n`,
    );
    const registry = makeRegistry(defs);
    const events: RunEvent[] = [];
    await runPlaybooks(
      [loadPlaybook(join(dir, 'play.yml'), { registry })],
      plainExecutorOptions({ forks: 1, verbosity }),
      {
        inventory: loadInventory([join(dir, 'hosts.ini')]),
        registry,
        reporter: { emit: (e) => void events.push(e), close: async () => {} },
        makeConnection: () => new LocalConnection(),
      },
    );
    const results = events.filter((e) => e.type === 'host_result');
    assert.equal(results.length, 1);
    return results[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('through the executor: an internal error says so, and shows its stack only at -vvv', async () => {
  const buggy = failing(
    'buggy',
    () => {
      throw new TypeError('plan.changes is not iterable');
    },
    'apply',
  );
  const failed = failing(
    'refusing',
    () => {
      throw new ModuleError('the export is not ready', { hint: 'start the NFS server' });
    },
    'apply',
  );
  const defs = [buggy, failed];
  for (const verbosity of [0, 2]) {
    const r = await runTask(defs, 'buggy', verbosity);
    assert.equal(r.status, 'failed');
    assert.equal(r.result.msg, 'internal error in module buggy: plan.changes is not iterable — please report');
    assert.equal('exception' in r.result, false, `no stack at verbosity ${verbosity}`);
  }
  const vvv = await runTask(defs, 'buggy', 3);
  assert.equal(vvv.result.msg, 'internal error in module buggy: plan.changes is not iterable — please report');
  assert.match(String(vvv.result.exception), /TypeError: plan.changes is not iterable\n\s+at /);

  // an ordinary failure is the module's message, never a stack, whatever the verbosity
  const ordinary = await runTask(defs, 'refusing', 3);
  assert.equal(ordinary.status, 'failed');
  assert.equal(ordinary.result.msg, 'the export is not ready\nhint: start the NFS server');
  assert.equal('exception' in ordinary.result, false);
});
