// Read-ahead (src/remote/read-ahead.ts, src/executor/read-ahead-window.ts): a task's probe also
// asks what the following tasks will probe; they take those answers instead of a round trip of
// their own, unless a command that may change a host ran since, on this host or any other.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { LocalConnection } from '../src/connection/local.js';
import type { ModuleDefinition } from '../src/module.js';
import { createModuleContext } from '../src/module-runner.js';
import type { Task } from '../src/playbook/types.js';
import { loadRegistry, type ModuleRegistry } from '../src/registry.js';
import { windowProbes, type LaterTask, type Speculation } from '../src/executor/read-ahead-window.js';
import { NotReadAhead, ProbeRecorded, mergeRequests, recordingContext } from '../src/remote/read-ahead.js';
import { encrypt } from '../src/vault/format.js';
import { parseProbe, probe, probeScript, type ProbeRequest } from '../src/remote/probe.js';
import { recap, runLocalPlay, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const play = runLocalPlay;

/** Runs these tasks (YAML, indented as a play's list) on local hosts and says what `file` then holds. */
async function contentAfter(ws: Ws, tasks: string, hosts: string[], file: string, args: string[] = []) {
  const r = await play(ws, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`, hosts, args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return readFileSync(file, 'utf8');
}

/** The commands sent to a host (-vvv shows each as `<host> EXEC …`). */
const roundTrips = (out: string, host: string) => out.split('\n').filter((l) => l.startsWith(`<${host}> EXEC `));

describe('read-ahead on a run', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('a converged host answers a window of file, copy, lineinfile, command-creates and when-true tasks in one round trip (after its first probe)', async () => {
    const base = ws.path('converged');
    const yaml = `
- hosts: all
  gather_facts: false
  tasks:
    - set_fact:
        d: "${base}/{{ inventory_hostname }}"
    - file: { path: "{{ d }}", state: directory, mode: "0755" }
    - file: { path: "{{ d }}/etc", state: directory }
    - copy: { content: "one\\n", dest: "{{ d }}/etc/one.conf", mode: "0600" }
    - debug: { msg: "between" }
    - file: { path: "{{ d }}/etc", mode: "0755" }
      when: inventory_hostname != 'nobody'
    - lineinfile: { path: "{{ d }}/etc/two.conf", line: "two", create: true }
    - lineinfile: { path: "{{ d }}/etc/two.conf", regexp: "^three", line: "three" }
    - command: touch {{ d }}/done
      args: { creates: "{{ d }}/done" }
    - file: { path: "{{ d }}/etc/one.conf", mode: "0600" }
`;
    const first = await play(ws, yaml, ['h1', 'h2']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const second = await play(ws, yaml, ['h1', 'h2'], ['-vvv']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    for (const h of ['h1', 'h2']) {
      assert.deepEqual(recap(second.stdout)[h], {
        ok: 10,
        changed: 0,
        unreachable: 0,
        failed: 0,
        skipped: 0,
        rescued: 0,
        ignored: 0,
      });
      const sent = roundTrips(second.stdout, h);
      // the host's first probe is asked alone (nothing is known yet about changes); the second reads ahead the rest
      assert.equal(sent.length, 2, sent.join('\n'));
      assert.equal(readFileSync(`${base}/${h}/etc/two.conf`, 'utf8'), 'two\nthree\n');
    }
  });

  it("a task that changes a file makes the next task's early answer stale: it reads the file again", async () => {
    const d = ws.path('stale');
    ws.write('stale/f', 'old\n');
    const tasks = `
    - file: { path: "${d}", state: directory }
    - copy: { content: "new\\n", dest: "${d}/f" }
    - lineinfile: { path: "${d}/f", line: "added" }
`;
    // an answer read with the directory's probe (f = "old") would have written old + added
    assert.equal(await contentAfter(ws, tasks, ['h1'], `${d}/f`), 'new\nadded\n');
  });

  it("another host's change makes this host's early answers stale (/etc/pve and NFS are shared)", async () => {
    const d = ws.path('shared');
    const tasks = `
    - file: { path: "${d}", state: directory }
    - copy: { content: "from h1\\n", dest: "${d}/shared" }
      when: inventory_hostname == 'h1'
    - lineinfile: { path: "${d}/shared", line: "{{ inventory_hostname }} was here", create: true }
`;
    // h2 read the file's state with the directory's probe, before h1 wrote it
    const shared = await contentAfter(ws, tasks, ['h1', 'h2'], `${d}/shared`, ['-f', '1']);
    assert.equal(shared, 'from h1\nh1 was here\nh2 was here\n');
  });
});

describe('what read-ahead never does', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('a run that holds a vault secret reads nothing ahead (nothing secret is rendered early)', async () => {
    const base = ws.path('vaulted');
    ws.write('pw.txt', 'pw\n');
    const secret = encrypt(Buffer.from('s3cret-value'), Buffer.from('pw'))
      .trimEnd()
      .split('\n')
      .map((l) => `        ${l}`)
      .join('\n');
    const yaml = `
- hosts: all
  gather_facts: false
  vars:
    token: !vault |
${secret}
  tasks:
    - file: { path: "${base}", state: directory }
    - file: { path: "${base}/a", state: directory }
    - copy: { content: "x\\n", dest: "${base}/a/x" }
    - lineinfile: { path: "${base}/a/y", line: "y", create: true }
`;
    const args = ['--vault-password-file', ws.path('pw.txt')];
    assert.equal((await play(ws, yaml, ['h1'], args)).code, 0);
    const second = await play(ws, yaml, ['h1'], [...args, '-vvv']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(roundTrips(second.stdout, 'h1').length, 4); // each task its own probe
    assert.ok(!second.stdout.includes('s3cret-value'));
  });

  it('a recording context sends nothing and logs nothing; probe() in it throws the request back', async () => {
    const logged: string[] = [];
    const sent: string[] = [];
    const ctx = createModuleContext({
      host: 'h',
      conn: new LocalConnection(),
      onLog: (m) => logged.push(m),
      onCommand: (c) => sent.push(c),
    });
    const rec = recordingContext(ctx);
    rec.log('a later task speaking early');
    await assert.rejects(rec.run(['touch', ws.path('never')]), NotReadAhead);
    await assert.rejects(rec.runShell(`touch ${ws.path('never')}`), NotReadAhead);
    await assert.rejects(
      probe(rec, { paths: [{ path: '/etc' }] }),
      (e) => e instanceof ProbeRecorded && e.req.paths?.[0].path === '/etc',
    );
    assert.deepEqual(logged, []);
    assert.deepEqual(sent, []);
  });
});

/** A later task as task.ts would speculate it, with no_log and another envelope where the test says. */
const windowCtx = createModuleContext({ host: 'h', conn: new LocalConnection() });
const speculate =
  (o: { noLog?: string; envelope?: Record<string, string> } = {}) =>
  (t: LaterTask): Speculation => ({
    args: t.module.args.parse(t.task.args),
    ctx: windowCtx,
    noLog: o.noLog !== undefined && JSON.stringify(t.task.args).includes(o.noLog),
    delegated: false,
    envelope: JSON.stringify(o.envelope?.[String(t.task.args.path ?? t.task.args.dest)] ?? '[]'),
    // as task.ts evaluates it: these tests' conditions are literal booleans, or cannot be told
    whenHolds: t.scope.when === undefined ? true : ({ true: true, false: false } as const)[String(t.scope.when)],
  });

describe('the window of a task', () => {
  let registry: ModuleRegistry;
  before(async () => (registry = await loadRegistry()));

  let line = 0;
  function later(module: string, args: Record<string, unknown>, extra: Partial<Task> = {}, when?: string): LaterTask {
    const def = registry.get(module) as ModuleDefinition;
    const task: Task = { kind: 'task', module, args, loc: { file: 'pb.yml', line: ++line, col: 1 }, ...extra };
    return { task, scope: when ? { when } : {}, module: def };
  }
  const paths = (reqs: ProbeRequest[]) => reqs.map((r) => r.paths?.[0]?.path ?? r.globs?.[0]);
  const window = (
    tasks: LaterTask[],
    o: Parameters<typeof speculate>[0] = {},
    selected: (t: LaterTask) => boolean = () => true,
  ) => windowProbes(JSON.stringify('[]'), tasks, selected, speculate(o)).then(paths);

  it('reads ahead file, copy content, lineinfile and command with creates; set_fact, debug and assert pass', async () => {
    const got = await window([
      later('file', { path: '/a', state: 'directory' }),
      later('set_fact', { x: 1 }),
      later('copy', { content: 'x', dest: '/b' }),
      later('debug', { msg: 'm' }),
      later('lineinfile', { path: '/c', line: 'l' }),
      later('assert', { that: ['true'] }),
      later('command', { cmd: 'touch /d', creates: '/d' }),
    ]);
    assert.deepEqual(got, ['/a', '/b', '/c', '/d']);
  });

  it('ends at a task that waits or may change what follows: until, a loop pause, pause, wait_for, stat, a command without creates, touch', async () => {
    const tail = () => later('file', { path: '/after' });
    const ends = [
      later('file', { path: '/u' }, { until: 'x is succeeded', retries: 3 }),
      later('file', { path: '/p' }, { loop: [1, 2], loop_control: { pause: 1 } }),
      later('pause', { seconds: 1 }),
      later('wait_for', { path: '/w' }),
      later('stat', { path: '/s' }),
      later('command', { cmd: 'true' }),
      later('shell', { cmd: 'echo hi' }),
      later('include_vars', { file: 'x.yml' }),
      later('file', { path: '/t', state: 'touch' }),
      later('file', { path: '/t2', state: 'touch' }, { loop: [1, 2] }), // a literal state decides for a loop too
      later('command', { cmd: 'echo {{ item }}' }, { loop: [1, 2] }),
    ];
    for (const end of ends)
      assert.deepEqual(await window([later('file', { path: '/a' }), end, tail()]), ['/a'], end.module.name);
  });

  it('goes on past a task it cannot know now: a when that does not hold now, a loop (a command only with creates), a copy of a controller file, no_log, another become user', async () => {
    const got = await window(
      [
        later('file', { path: '/when' }, {}, "x == 'y'"),
        later('file', { path: '/when-false' }, {}, 'false'),
        later('file', { path: '/when-true' }, {}, 'true'),
        later('file', { path: '/loop' }, { loop: [1, 2] }),
        later('command', { cmd: 'touch /l', creates: '/l' }, { loop: [1, 2] }),
        later('copy', { src: 'some/file', dest: '/src' }),
        later('file', { path: '/secret' }),
        later('file', { path: '/other-user' }),
        later('file', { path: '/last' }),
      ],
      { noLog: '/secret', envelope: { '/other-user': '["postgres",null]' } },
    );
    assert.deepEqual(got, ['/when-true', '/last']);
  });

  it('leaves out tasks the tags do not select, whatever they are, and stops at 32 requests', async () => {
    const skipped = later('pause', { seconds: 1 }, { tags: ['slow'] });
    const got = await window([skipped, later('file', { path: '/a' })], {}, (t) => t !== skipped);
    assert.deepEqual(got, ['/a']);
    const many = Array.from({ length: 40 }, (_, i) => later('file', { path: `/f${i}` }));
    assert.equal((await window(many)).length, 32);
  });
});

describe('requests merged into one probe', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  it('gives each request the answer it would get alone (paths, globs, accounts, identity), each path asked once', async () => {
    const d = ws.path('merge');
    ws.write('merge/a', 'a\n');
    ws.write('merge/b', 'b\n');
    writeFileSync(`${d}/c`, 'c\n');
    const reqs: ProbeRequest[] = [
      {
        paths: [
          { path: `${d}/a`, checksum: 'sha1' },
          { path: d, existsIfExists: `${d}/a` },
        ],
        identity: true,
      },
      { paths: [{ path: `${d}/b` }], users: ['root'], groups: ['root'] },
      { paths: [{ path: `${d}/a`, checksum: 'sha1' }], globs: [`${d}/*`, `${d}/none*`], users: ['nobody'] },
      { globs: [`${d}/*`] },
    ];
    const conn = new LocalConnection();
    const ask = async (req: ProbeRequest) => parseProbe(req, (await conn.exec(probeScript(req))).stdout);
    const { merged, split } = mergeRequests(reqs);
    assert.equal(merged.paths?.length, 3); // a (checksum) once
    assert.deepEqual(merged.globs, [`${d}/*`, `${d}/none*`]);
    const parts = split(await ask(merged));
    // reading a file may move its atime: that is not compared
    const strip = (r: object): unknown =>
      JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'atime' ? undefined : v instanceof Map ? [...v] : v)));
    for (const [i, req] of reqs.entries()) assert.deepEqual(strip(parts[i]), strip(await ask(req)), `request ${i}`);
  });
});

describe('probe() with a window', () => {
  let ws: Ws;
  before(() => (ws = workspace()));
  after(() => ws.cleanup());

  /** A context on a fresh local connection that records the commands it sends and how often it is asked for its window. */
  function probing(window: ProbeRequest[]) {
    const sent: string[] = [];
    let asked = 0;
    const conn = new LocalConnection();
    const make = (upcoming = true) =>
      createModuleContext({
        host: 'h',
        conn,
        onCommand: (c) => sent.push(c),
        ...(upcoming ? { upcomingProbes: () => Promise.resolve((asked++, window)) } : {}),
      });
    return { sent, make, windowsAsked: () => asked };
  }

  it('reads ahead while nothing changed since the last probe; answers read before a change are not used', async () => {
    const d = ws.path('probe-level');
    ws.write('probe-level/a', 'a\n');
    const a: ProbeRequest = { paths: [{ path: `${d}/a`, checksum: 'sha1' }] };
    const b: ProbeRequest = { paths: [{ path: `${d}/b` }] };
    const p = probing([a, b, a]);
    // a connection's first probe: nothing is known yet about changes, nothing is read ahead
    await probe(p.make(), { paths: [{ path: d }] });
    assert.equal(p.windowsAsked(), 0);
    // nothing changed since: the next probe asks for its window too, and the window is answered from it
    await probe(p.make(), { paths: [{ path: `${d}/x` }] });
    assert.equal(p.windowsAsked(), 1);
    assert.equal((await probe(p.make(false), a)).paths[0].checksum, createHash('sha1').update('a\n').digest('hex'));
    assert.equal((await probe(p.make(false), b)).paths[0].exists, false);
    assert.equal((await probe(p.make(false), a)).paths[0].exists, true); // the same request twice in the window
    assert.equal(p.sent.length, 2, p.sent.join('\n---\n'));
    // read ahead again, then a command that may change the host: b's answer is stale and asked again,
    // and that probe reads nothing ahead (something changed since the last one)
    await probe(p.make(), { paths: [{ path: `${d}/c` }] });
    assert.equal(p.windowsAsked(), 2);
    writeFileSync(`${d}/b`, 'now\n');
    await p.make(false).run(['true']);
    assert.equal((await probe(p.make(), b)).paths[0].exists, true);
    assert.equal(p.windowsAsked(), 2);
    assert.equal(p.sent.length, 5);
    // calm again
    await probe(p.make(), { paths: [{ path: `${d}/e` }] });
    assert.equal(p.windowsAsked(), 3);
  });

  it('a task of the window that was not read ahead asks for itself, and not again for the answers already kept', async () => {
    const d = ws.path('kept');
    const a: ProbeRequest = { paths: [{ path: `${d}/kept-a` }] };
    const c: ProbeRequest = { paths: [{ path: `${d}/new-c` }] };
    let window = [a];
    const sent: string[] = [];
    const conn = new LocalConnection();
    const make = () =>
      createModuleContext({
        host: 'h',
        conn,
        onCommand: (cmd) => sent.push(cmd),
        upcomingProbes: () => Promise.resolve(window),
      });
    await probe(make(), { paths: [{ path: d }] });
    await probe(make(), { paths: [{ path: `${d}/x` }] }); // reads a ahead
    assert.ok(sent[1].includes('kept-a'));
    window = [a, c];
    await probe(make(), { paths: [{ path: `${d}/when-task` }] }); // not read ahead: asks, with c only
    assert.ok(sent[2].includes('new-c') && !sent[2].includes('kept-a'), sent[2]);
    assert.equal((await probe(make(), a)).paths[0].exists, false);
    assert.equal((await probe(make(), c)).paths[0].exists, false);
    assert.equal(sent.length, 3);
  });

  it('reads ahead no more than fits one command line (an operand of lxc-attach into a CT holds 128 KiB)', async () => {
    const d = ws.path('long');
    const long = (i: number) => `${d}/${String(i).padStart(4, '0')}-${'x'.repeat(200)}/${'y'.repeat(200)}`;
    const window = Array.from({ length: 32 }, (_, i) => ({ paths: [{ path: long(i) }, { path: `${long(i)}/z` }] }));
    const p = probing(window);
    await probe(p.make(), { paths: [{ path: d }] }); // the first probe reads nothing ahead
    await probe(p.make(), { paths: [{ path: `${d}/2` }] });
    assert.ok(p.sent[1].length < 64 * 1024, `${p.sent[1].length} bytes`);
    assert.ok(p.sent[1].includes(long(0)));
    assert.ok(!p.sent[1].includes(long(31)));
    await probe(p.make(false), window[31]);
    assert.equal(p.sent.length, 3);
  });
});
