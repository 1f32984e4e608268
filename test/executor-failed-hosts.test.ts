// Which hosts run a block, its rescue and always, and handlers, after failures: the executor run
// in-process on controller-only modules (debug, fail), so these need no host and no connection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecapCounters, RunEvent } from '../src/events.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { loadRegistry } from '../src/registry.js';
import { runPlaybooks } from '../src/executor/run.js';
import { workspace } from './helpers/cli.js';

interface Ran {
  /** task name → hosts it ran on (not skipped), in the order reported */
  tasks: Map<string, string[]>;
  recap: Record<string, RecapCounters>;
}

let ws: ReturnType<typeof workspace>;
before(() => (ws = workspace({ 'hosts.ini': '[all]\na\nb\nc\n' })));
after(() => ws.cleanup());

async function run(playbook: string, forceHandlers = false): Promise<Ran> {
  ws.write('play.yml', playbook);
  const registry = await loadRegistry();
  const events: RunEvent[] = [];
  await runPlaybooks(
    [loadPlaybook(ws.path('play.yml'), { registry })],
    {
      check: false,
      diff: false,
      forks: 1,
      verbosity: 0,
      tags: { only: [], skip: [] },
      forceHandlers,
      extraVars: {},
      become: { enabled: false },
    },
    {
      inventory: loadInventory([ws.path('hosts.ini')]),
      registry,
      reporter: { emit: (e) => events.push(e), close: async () => {} },
      makeConnection: () => {
        throw new Error('controller-only modules need no connection');
      },
    },
  );
  const tasks = new Map<string, string[]>();
  let recap: Record<string, RecapCounters> = {};
  for (const e of events) {
    if (e.type === 'host_result' && e.status !== 'skipped') tasks.set(e.task, [...(tasks.get(e.task) ?? []), e.host]);
    if (e.type === 'recap') recap = e.hosts;
  }
  return { tasks, recap };
}

const on = (ran: Ran, task: string) => ran.tasks.get(task) ?? [];
const failOn = (name: string, hosts: string[], extra = '') =>
  `- name: ${name}\n  fail: {}\n  when: inventory_hostname in ${JSON.stringify(hosts)}\n${extra}`;
const debug = (name: string) => `- name: ${name}\n  debug: { msg: "${name}" }\n`;
const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');

describe('executor: hosts of block, rescue and always', () => {
  it('rescue runs on the hosts that failed in the block, always on all, a failure in them stops only that host', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
${indent(failOn('body fails', ['a', 'b']) + debug('body 2'), 8)}
      rescue:
${indent(debug('rescue 1') + failOn('rescue fails', ['b']) + debug('rescue 2'), 8)}
      always:
${indent(debug('always 1') + failOn('always fails', ['c']) + debug('always 2'), 8)}
${indent(debug('after'), 4)}
`);
    assert.deepEqual(on(ran, 'body 2'), ['c']);
    assert.deepEqual(on(ran, 'rescue 1'), ['a', 'b']);
    assert.deepEqual(on(ran, 'rescue 2'), ['a']);
    assert.deepEqual(on(ran, 'always 1'), ['a', 'b', 'c']);
    assert.deepEqual(on(ran, 'always 2'), ['a', 'b']);
    assert.deepEqual(on(ran, 'after'), ['a'], 'a rescued host goes on; b (rescue failed) and c (always failed) do not');
    assert.equal(ran.recap.a.rescued, 1);
    assert.equal(ran.recap.a.failed, 0);
    assert.equal(ran.recap.b.failed, 1);
    // as Ansible's strategy (plugins/strategy/__init__.py) counts it: on entering the rescue
    assert.equal(ran.recap.b.rescued, 1);
    assert.equal(ran.recap.c.failed, 1);
  });

  it('a block inside always runs on a host that failed before it, rescues its own failure, and the host stays failed', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
${indent(failOn('body fails', ['a']), 8)}
      always:
        - block:
${indent(failOn('inner fails', ['a']) + debug('inner 2'), 12)}
          rescue:
${indent(debug('inner rescue'), 12)}
${indent(debug('always after inner'), 8)}
${indent(debug('after'), 4)}
`);
    assert.deepEqual(on(ran, 'inner fails'), ['a']);
    assert.deepEqual(on(ran, 'inner 2'), ['b', 'c']);
    assert.deepEqual(on(ran, 'inner rescue'), ['a']);
    assert.deepEqual(on(ran, 'always after inner'), ['a', 'b', 'c']);
    assert.deepEqual(on(ran, 'after'), ['b', 'c']);
    assert.deepEqual({ failed: ran.recap.a.failed, rescued: ran.recap.a.rescued }, { failed: 1, rescued: 1 });
  });
});

describe('executor: failures in always, any_errors_fatal, max_fail_percentage, clear_host_errors', () => {
  it('a new failure in always of a host that had failed already is fatal under any_errors_fatal', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
${indent(failOn('body fails', ['a']), 8)}
      always:
${indent(failOn('always fails', ['a'], '  any_errors_fatal: true\n') + debug('always 2'), 8)}
${indent(debug('after'), 4)}
`);
    assert.deepEqual(on(ran, 'always fails'), ['a']);
    assert.deepEqual(on(ran, 'always 2'), []);
    assert.deepEqual(on(ran, 'after'), []);
  });

  it('max_fail_percentage does not count, while always runs, the failure that always runs after (as Ansible)', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  max_fail_percentage: 40
  tasks:
    - block:
${indent(failOn('body fails', ['a']), 8)}
      always:
${indent(failOn('always fails', ['b']) + debug('always 2'), 8)}
${indent(debug('after'), 4)}
`);
    // b's failure is 1 of 3 hosts (33%): a, failed in the block, counts once always is over
    assert.deepEqual(on(ran, 'always 2'), ['a', 'c']);
    assert.deepEqual(on(ran, 'after'), ['c']);
  });

  it('clear_host_errors inside always clears the failure always runs after (as Ansible)', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - block:
${indent(failOn('body fails', ['a']), 8)}
      always:
        - meta: clear_host_errors
${indent(debug('after'), 4)}
`);
    assert.deepEqual(on(ran, 'after'), ['a', 'b', 'c']);
  });

  // strategy/__init__.py _execute_meta and PlayIterator.clear_host_errors clear the failed state
  // only: a host whose failure made its state COMPLETE runs no more of this play, but later plays.
  it('clear_host_errors brings failed hosts back in the next play, not in this one', async () => {
    const ran = await run(`
- hosts: all
  gather_facts: false
  tasks:
${indent(failOn('fails', ['a']) + '- meta: clear_host_errors\n' + debug('after'), 4)}
- hosts: all
  gather_facts: false
  tasks:
${indent(debug('next play'), 4)}
`);
    assert.deepEqual(on(ran, 'after'), ['b', 'c']);
    assert.deepEqual(on(ran, 'next play'), ['a', 'b', 'c']);
  });
});

describe('executor: hosts of handlers', () => {
  const handlersPlay = (force: string) => `
- hosts: all
  gather_facts: false
${force}  tasks:
    - name: notify
      debug: { msg: x }
      changed_when: true
      notify: [h1, h2, h3]
      when: inventory_hostname in ['a', 'b']
${indent(failOn('fails', ['a']), 4)}
  handlers:
${indent(debug('h1') + failOn('h2', ['b']) + debug('h3'), 4)}
`;

  it('handlers run on the hosts that notified them and have not failed', async () => {
    const ran = await run(handlersPlay(''));
    // c did not notify, a failed; h2 fails on b, so h3 runs nowhere
    assert.deepEqual(on(ran, 'h1'), ['b']);
    assert.deepEqual(on(ran, 'h3'), []);
  });

  it('force_handlers (play keyword or --force-handlers) runs them on failed hosts too', async () => {
    for (const [play, option] of [
      ['  force_handlers: true\n', false],
      ['', true],
    ] as const) {
      const ran = await run(handlersPlay(play), option);
      assert.deepEqual(on(ran, 'h1'), ['a', 'b']);
      assert.deepEqual(
        on(ran, 'h3'),
        ['a', 'b'],
        'forced, a handler that failed on b does not stop the next one there',
      );
    }
  });
});
