// A host's first task starts as soon as that host's connection is open: a host slow to
// accept does not hold back another host's work (issue 19 item 5: the handshakes of the
// first task overlap with work). Shown by the order of events, not by timing: the slow
// host's connection opens only once the fast host's first result has been reported.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalConnection } from '../src/connection/local.js';
import type { Connection } from '../src/connection/types.js';
import type { RunEvent } from '../src/events.js';
import { runPlaybooks } from '../src/executor/run.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { loadRegistry } from '../src/registry.js';
import { workspace } from './helpers/cli.js';
import { plainExecutorOptions } from './helpers/executor-options.js';

/** A local connection whose connect() waits for `gate`: a host whose sshd is slow to accept. */
class GatedConnection extends LocalConnection {
  constructor(private readonly gate: Promise<void>) {
    super();
  }
  override async connect(): Promise<void> {
    await this.gate;
  }
}

/** What happened, in order: events of the run and the moments connections opened. */
type Step = { type: 'connected'; host: string } | { type: 'gate'; openedBy: string } | RunEvent;

let ws: ReturnType<typeof workspace>;
before(() => (ws = workspace({ 'hosts.ini': '[all]\nslow\nfast\n' })));
after(() => ws.cleanup());

async function run(forks: number): Promise<Step[]> {
  ws.write(
    'play.yml',
    `
- hosts: all
  gather_facts: false
  tasks:
    - name: first
      command: echo first
    - name: second
      command: echo second
`,
  );
  const registry = await loadRegistry();
  const steps: Step[] = [];
  let openGate!: (by: string) => void;
  const gate = new Promise<void>((res) => {
    openGate = (by) => {
      steps.push({ type: 'gate', openedBy: by });
      res();
    };
  });
  // a bound on the wait, should the run wait for every handshake before any work (the behaviour under test)
  const bound = setTimeout(() => openGate('the 60 s bound'), 60_000);
  try {
    await runPlaybooks([loadPlaybook(ws.path('play.yml'), { registry })], plainExecutorOptions({ forks }), {
      inventory: loadInventory([ws.path('hosts.ini')]),
      registry,
      reporter: {
        emit: (e) => {
          steps.push(e);
          if (e.type === 'host_result' && e.host === 'fast' && e.task === 'first') openGate('fast: first');
        },
        close: async () => {},
      },
      makeConnection: (host): Connection => {
        const conn = host === 'slow' ? new GatedConnection(gate) : new LocalConnection();
        const connect = conn.connect.bind(conn);
        conn.connect = async () => {
          await connect();
          steps.push({ type: 'connected', host });
        };
        return conn;
      },
    });
  } finally {
    clearTimeout(bound);
  }
  return steps;
}

const indexOf = (steps: Step[], match: (s: Step) => boolean) => {
  const i = steps.findIndex(match);
  assert.ok(i >= 0, `no such step in ${JSON.stringify(steps.map((s) => s.type))}`);
  return i;
};
const result = (host: string, task: string) => (s: Step) =>
  s.type === 'host_result' && s.host === host && s.task === task;

describe('executor: connections open per host, work starts on each as it opens', () => {
  it('a host slow to accept does not delay another host’s first task (forks = hosts)', async () => {
    const steps = await run(2);
    const gate = steps.find((s) => s.type === 'gate');
    assert.deepEqual(gate, { type: 'gate', openedBy: 'fast: first' });
    const fastFirst = indexOf(steps, result('fast', 'first'));
    const slowConnected = indexOf(steps, (s) => s.type === 'connected' && s.host === 'slow');
    assert.ok(fastFirst < slowConnected, 'fast finished its first task before slow was connected');
    // slow's own first task ran once its connection opened, and both hosts went on to the second
    const slowFirst = indexOf(steps, result('slow', 'first'));
    assert.ok(slowFirst > slowConnected);
    assert.equal(steps.filter(result('slow', 'second')).length, 1);
    const rc = steps.find((s) => s.type === 'recap');
    assert.ok(rc && rc.type === 'recap');
    assert.equal(rc.hosts.slow.failed + rc.hosts.fast.failed, 0);
  });
});
