import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import assertModule from '../modules/assert.js';
import debug from '../modules/debug.js';
import fail from '../modules/fail.js';
import setFact from '../modules/set_fact.js';
import { argErrors, run } from './modules-harness.js';

const vars = { app: { port: 8080, name: 'web' }, list: [1, 2, 3], flag: true, text: "it's $(x)" };

describe('debug', () => {
  it('msg (any value), default, var, k=v form; never touches the host', async () => {
    const r = await run(debug, { msg: ['a', { b: 1 }] }, { vars });
    assert.deepEqual(r.result, { changed: false, msg: ['a', { b: 1 }] });
    assert.equal(r.roundTrips, 0);
    assert.equal((await run(debug, {}, { vars })).result.msg, 'Hello world!');
    assert.deepEqual((await run(debug, { var: 'app.port' }, { vars })).result, { changed: false, 'app.port': 8080 });
    assert.deepEqual((await run(debug, { var: 'nope' }, { vars })).result, {
      changed: false,
      nope: 'VARIABLE IS NOT DEFINED!',
    });
    assert.deepEqual((await run(debug, { var: 'list | length' }, { vars })).result['list | length'], 3);
  });

  it('verbosity: skipped below the threshold', async () => {
    const low = await run(debug, { msg: 'x', verbosity: 2 }, { vars: { ansible_verbosity: 1 } });
    assert.equal(low.result.skipped, true);
    const high = await run(debug, { msg: 'x', verbosity: 2 }, { vars: { ansible_verbosity: 2 } });
    assert.equal(high.result.msg, 'x');
  });

  it('rejects bad arguments', () => {
    assert.match(argErrors(debug, { msg: 'a', var: 'b' }).join(), /mutually exclusive/);
    assert.match(argErrors(debug, { mesage: 'a' }).join(), /mesage/);
    assert.match(argErrors(debug, { msg: 'x', verbosity: -1 }).join(), /verbosity/);
  });
});

describe('assert', () => {
  it('passes, fails on the first false condition with Ansible fields', async () => {
    const ok = await run(assertModule, { that: ['app.port == 8080', "app.name in ['web', 'db']", true] }, { vars });
    assert.deepEqual(ok.result, { changed: false, msg: 'All assertions passed' });
    assert.equal(ok.roundTrips, 0);
    const custom = await run(assertModule, { that: 'flag', success_msg: 'fine', quiet: true }, { vars });
    assert.equal(custom.result.msg, 'fine');
    const bad = await run(
      assertModule,
      { that: ['list | length == 3', 'app.port > 9000'], fail_msg: 'port too low' },
      { vars },
    );
    assert.deepEqual(bad.result, {
      changed: false,
      failed: true,
      msg: 'port too low',
      assertion: 'app.port > 9000',
      evaluated_to: false,
    });
    const dflt = await run(assertModule, { that: 'not flag' }, { vars });
    assert.equal(dflt.result.msg, 'Assertion failed');
    const alias = await run(assertModule, { that: 'not flag', msg: 'via msg' }, { vars });
    assert.equal(alias.result.msg, 'via msg');
  });

  it('an undefined variable fails the task, naming it; hostile strings are data', async () => {
    const r = await run(assertModule, { that: 'missing_var == 1' }, { vars });
    assert.equal(r.result.failed, true);
    assert.match(String(r.result.msg), /missing_var/);
    const lit = await run(assertModule, { that: `text == "it's $(x)"` }, { vars });
    assert.equal(lit.result.failed, undefined);
  });

  it('rejects bad arguments', () => {
    assert.match(argErrors(assertModule, {}).join(), /that/);
    assert.match(argErrors(assertModule, { that: 'x', fail_message: 'y' }).join(), /fail_message/);
  });
});

describe('fail', () => {
  it('fails with the message or the default', async () => {
    assert.deepEqual((await run(fail, { msg: 'stop here' })).result, {
      changed: false,
      failed: true,
      msg: 'stop here',
    });
    assert.equal((await run(fail, {})).result.msg, 'Failed as requested from task');
    assert.deepEqual((await run(fail, { msg: { why: 'structured' } })).result.msg, '{"why":"structured"}');
    assert.match(argErrors(fail, { message: 'x' }).join(), /message/);
  });
});

describe('set_fact', () => {
  it('returns ansible_facts with typed values, hostile strings as data', async () => {
    const r = await run(setFact, { a: 1, b: [1, 'x'], c: { d: true }, cacheable: true });
    assert.deepEqual(r.result, { changed: false, ansible_facts: { a: 1, b: [1, 'x'], c: { d: true } } });
    assert.equal(r.roundTrips, 0);
    const odd = await run(setFact, { y: 'two words', z: "$(id) `x` 'q'" });
    assert.deepEqual(odd.result.ansible_facts, { y: 'two words', z: "$(id) `x` 'q'" });
  });

  it('rejects invalid names and empty calls', () => {
    assert.match(argErrors(setFact, { 'bad-name': 1 }).join(), /The variable name 'bad-name' is not valid/);
    assert.match(argErrors(setFact, {}).join(), /at least one variable/);
    assert.match(argErrors(setFact, { cacheable: 'maybe', x: 1 }).join(), /cacheable/);
  });

  it('every controller module schema converts to JSON Schema', () => {
    for (const m of [debug, assertModule, fail, setFact]) assert.equal(typeof z.toJSONSchema(m.args), 'object');
  });
});
