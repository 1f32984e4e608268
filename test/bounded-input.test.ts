// Bounded on every input: a host that never speaks SSH, a catastrophic regex,
// YAML alias bombs, self-referencing templates, include recursion and invalid
// UTF-8 each end quickly with a clear message, and the process exits.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { binPath, workspace } from './helpers/cli.js';

interface BoundedRun {
  code: number | null;
  out: string;
  ms: number;
  /** the test killed the child: it did not end by itself within the limit */
  killed: boolean;
}

/** Runs phx-play with a hard kill after `limitMs`, so a hang fails the test instead of stalling it. */
function runBounded(args: string[], cwd: string, limitMs: number): Promise<BoundedRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd,
      env: { ...process.env, HOME: cwd, CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started, killed });
    });
  });
}

describe('bounded on every input', () => {
  const ws = workspace();
  after(() => ws.cleanup());

  it('a host that accepts TCP and never speaks SSH: unreachable after -T, and the process exits', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      ws.write('silent.ini', `[all]\nmute ansible_host=127.0.0.1 ansible_port=${port} ansible_user=root\n`);
      ws.write('silent.yml', `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n`);
      const r = await runBounded(['-i', ws.path('silent.ini'), '-T', '2', ws.path('silent.yml')], ws.dir, 12_000);
      assert.ok(!r.killed, `still running after 12 s:\n${r.out}`);
      assert.equal(r.code, 4, r.out);
      assert.match(r.out, /UNREACHABLE!.*connect timeout after 2 s/);
      assert.ok(r.ms < 7000, `exited after ${r.ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  // billion laughs: 9 levels of 9 aliases each, 9^9 strings once expanded
  const laughs = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++)
    laughs.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  const indent = (lines: string[], n: number) => lines.map((l) => ' '.repeat(n) + l).join('\n');
  const aliasBombRefused = (r: BoundedRun, file: string) => {
    assert.ok(!r.killed, `still running after the limit:\n${r.out}`);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`${file}:\\d+:\\d+: YAML: aliases expand to more than 100000 values`));
    assert.ok(r.ms < 8000, `took ${r.ms} ms`);
  };

  it('a YAML alias bomb in a playbook is refused, located, quickly', async () => {
    ws.write(
      'bomb-pb.yml',
      `- hosts: localhost\n  gather_facts: false\n  vars:\n${indent(laughs, 4)}\n  tasks:\n    - debug: { msg: hi }\n`,
    );
    aliasBombRefused(await runBounded([ws.path('bomb-pb.yml')], ws.dir, 15_000), 'bomb-pb.yml');
  });

  it('a YAML alias bomb as inventory or vars file is refused, located, quickly', async () => {
    ws.write('bomb.yml', `${laughs.join('\n')}\n`);
    ws.write('plain.yml', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: { msg: hi }\n`);
    ws.write(
      'vf.yml',
      `- hosts: localhost\n  gather_facts: false\n  vars_files: [bomb.yml]\n  tasks:\n    - debug: { msg: hi }\n`,
    );
    aliasBombRefused(await runBounded(['-i', ws.path('bomb.yml'), ws.path('plain.yml')], ws.dir, 15_000), 'bomb.yml');
    aliasBombRefused(await runBounded([ws.path('vf.yml')], ws.dir, 15_000), 'bomb.yml');
  });

  it('an alias inside the node it names is an error, not a stack overflow; ordinary aliases still load', async () => {
    ws.write('self.yml', `- hosts: localhost\n  vars: &v\n    x: *v\n  tasks: []\n`);
    const r = await runBounded([ws.path('self.yml')], ws.dir, 15_000);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /self\.yml:3:8: YAML: the alias \*v refers to a node that contains it/);
    ws.write(
      'ok.yml',
      `- hosts: localhost\n  gather_facts: false\n  vars:\n    base: &b { a: 1, b: [x, y] }\n    copy: *b\n    merged: { <<: *b, c: 3 }\n  tasks:\n    - assert: { that: ["copy.b[1] == 'y'", "merged.a + merged.c == 4"] }\n`,
    );
    const ok = await runBounded([ws.path('ok.yml')], ws.dir, 15_000);
    assert.equal(ok.code, 0, ok.out);
  });

  it('invalid UTF-8 in a playbook, inventory or vars file is a located error, not U+FFFD', async () => {
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    ws.write('ok-pb.yml', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: { msg: hi }\n`);
    writeFileSync(
      ws.path('bad-pb.yml'),
      bytes('- hosts: localhost\n  tasks:\n    - debug: { msg: "caf\u00e9 ', [0xff, 0xfe], '" }\n'),
    );
    writeFileSync(ws.path('bad.ini'), bytes('[all]\nlocalhost ansible_connection=local x=', [0xe2, 0x28, 0xa1], '\n'));
    writeFileSync(ws.path('bad-vars.yml'), bytes('a: 1\nb: "', [0xc0, 0xaf], '"\n'));
    ws.write(
      'vf-pb.yml',
      `- hosts: localhost\n  gather_facts: false\n  vars_files: [bad-vars.yml]\n  tasks:\n    - debug: { msg: hi }\n`,
    );
    const cases: [string[], RegExp][] = [
      [[ws.path('bad-pb.yml')], /bad-pb\.yml:3:27: invalid UTF-8 \(bytes ff at offset 55\)/],
      [['-i', ws.path('bad.ini'), ws.path('ok-pb.yml')], /bad\.ini:2:38: invalid UTF-8 \(bytes e2 28/],
      [[ws.path('vf-pb.yml')], /bad-vars\.yml:2:5: invalid UTF-8 \(bytes c0/],
      [['-e', `@${ws.path('bad-vars.yml')}`, ws.path('ok-pb.yml')], /bad-vars\.yml:2:5: invalid UTF-8/],
    ];
    for (const [args, message] of cases) {
      const r = await runBounded(args, ws.dir, 15_000);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, message);
      assert.ok(!r.out.includes('\ufffd'), r.out);
    }
  });

  it('a task file that includes itself with no end stops at a depth limit with a located error', async () => {
    ws.write('local.ini', 'localhost ansible_connection=local\n');
    ws.write('inc-pb.yml', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - include_tasks: again.yml\n`);
    ws.write('again.yml', `- debug: { msg: again }\n- include_tasks: again.yml\n`);
    const r = await runBounded(['-i', ws.path('local.ini'), ws.path('inc-pb.yml')], ws.dir, 30_000);
    assert.ok(!r.killed, `still running after 30 s:\n${r.out.slice(-2000)}`);
    assert.equal(r.code, 1, r.out.slice(-2000));
    assert.match(r.out, /again\.yml:2:3: include_tasks nested more than 64 deep .*again\.yml/);
  });

  it('a variable referring to itself, or a very deep chain of them, is a task error, not a stack overflow', async () => {
    const chain = Array.from({ length: 3000 }, (_, i) => `    v${i}: "{{ v${i + 1} }}"`).join('\n');
    ws.write(
      'vars-pb.yml',
      `- hosts: localhost\n  gather_facts: false\n  vars:\n    a: "{{ b }}"\n    b: "x{{ a }}"\n${chain}\n    v3000: end\n` +
        `  tasks:\n    - debug: { msg: "{{ a }}" }\n      ignore_errors: true\n    - debug: { msg: "{{ v0 }}" }\n`,
    );
    const r = await runBounded(['-i', ws.path('local.ini'), ws.path('vars-pb.yml')], ws.dir, 30_000);
    assert.equal(r.code, 2, r.out.slice(-2000));
    assert.match(r.out, /recursive loop detected in template for var a/);
    assert.match(r.out, /templates nested too deeply/);
    assert.doesNotMatch(r.out, /Maximum call stack|RangeError/);
  });

  it('a catastrophic regex on host output ends at once (linear-time engine); lookaround is a clear error', async () => {
    ws.write('local.ini', 'localhost ansible_connection=local\n');
    ws.write(
      'regex-pb.yml',
      `- hosts: localhost
  gather_facts: false
  tasks:
    - command: printf '${'a'.repeat(40)}!'
      register: out
    - assert:
        that:
          - "out.stdout | regex_replace('^(a+)+$', 'x') == out.stdout"
          - "out.stdout | regex_search('^(a+)+$') is none"
          - "out.stdout is not match('(a|aa)+$')"
          - "out.stdout is not search('^(a|a?)+$')"
          - "out.stdout | regex_findall('(a+)+!') == ['${'a'.repeat(40)}']"
          - "'ab12' | regex_replace('(?P<l>[a-z]+)(\\\\d+)', '\\\\2-\\\\g<l>') == '12-ab'"
    - assert: { that: "out.stdout | regex_search('a(?=!)')" }
`,
    );
    const r = await runBounded(['-i', ws.path('local.ini'), ws.path('regex-pb.yml')], ws.dir, 20_000);
    assert.ok(!r.killed, `still running after 20 s:\n${r.out}`);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /ok: \[localhost\][^\n]*\n\nTASK \[assert\]\s+\*+\nfatal/, 'the assert task passed');
    assert.match(r.out, /invalid regular expression "a\(\?=!\)".*lookaround and backreferences are not supported/);
  });
});
