// Tasks started before any vault secret exists run without AsyncLocalStorage
// (src/vault/secrecy.ts, watchSecretUse): until then nothing can be read as a secret.
// When the first secret appears while such tasks run (include_vars of a vaulted file),
// those tasks count as having read one; tasks started afterwards are watched as usual.
// This file has its own process: no secret is registered before these tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderValue } from '../src/template/index.js';
import { registerSecretText, secretUsed, watchSecretUse } from '../src/vault/secrecy.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('watchSecretUse before the first secret', () => {
  it('a task without secrets reads none, sync or async', async () => {
    assert.equal(
      watchSecretUse(() => secretUsed()),
      false,
    );
    const used = await watchSecretUse(async () => {
      await tick();
      return secretUsed();
    });
    assert.equal(used, false);
    assert.equal(secretUsed(), false);
  });

  it('returns what fn returns and passes its errors', async () => {
    assert.equal(
      watchSecretUse(() => 7),
      7,
    );
    assert.throws(
      () =>
        watchSecretUse(() => {
          throw new Error('sync boom');
        }),
      /sync boom/,
    );
    await assert.rejects(
      watchSecretUse(async () => {
        await tick();
        throw new Error('async boom');
      }),
      /async boom/,
    );
    // the failures above ended their tasks: nothing is counted as running
    assert.equal(secretUsed(), false);
  });

  it('tasks running when the first secret appears count as having read it; later tasks are watched', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = watchSecretUse(async () => {
      await gate;
      return secretUsed();
    });
    const loader = watchSecretUse(async () => {
      await tick();
      registerSecretText('first-secret-canary');
      return secretUsed();
    });
    assert.equal(await loader, true);
    release();
    assert.equal(await running, true);
    // all of them ended: outside a task, nothing was read
    assert.equal(secretUsed(), false);

    const vars = { pw: 'first-secret-canary', other: 'plain' };
    const reads = (template: string): Promise<boolean> =>
      watchSecretUse(async () => {
        await tick();
        renderValue(template, vars);
        return secretUsed();
      });
    assert.equal(await reads('{{ other }}'), false);
    assert.equal(await reads('{{ pw }}'), true);
  });
});
