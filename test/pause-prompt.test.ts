// pause with a prompt (issue 15 item 7), through the real CLI. Following
// lib/ansible/plugins/action/pause.py ActionModule.run: without a terminal on stdin a prompt is not
// waited for ("Not waiting for response to prompt as stdin is not interactive"); with seconds or
// minutes nothing is read, the wait is the pause; on a terminal one line is read (Enter ends it),
// echoed unless `echo: false`, and registered as `user_input`; the task runs once (BYPASS_HOST_LOOP).
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binPath, localInventory, recap, runCli, workspace } from './helpers/cli.js';

type Ws = ReturnType<typeof workspace>;

const PLAYBOOK = `
- hosts: all
  gather_facts: false
  tasks:
    - pause: { prompt: "Type the word", echo: false }
      register: answer
    - debug: { msg: "got [{{ answer.user_input }}] echo={{ answer.echo }}" }
      when: answer is defined
`;

/** Runs the CLI on a pseudo-terminal (util-linux script); `reply` is typed once `waitFor` appears. */
function runOnTerminal(args: string[], cwd: string, waitFor: string, reply: string): Promise<string> {
  const command = [process.execPath, binPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd,
      env: { ...process.env, CI: '1', NO_COLOR: '1' },
    });
    let out = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!typed && out.includes(waitFor)) {
        typed = true;
        child.stdin.write(reply);
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('pause with a prompt', () => {
  let ws: Ws;
  before(() => {
    ws = workspace();
    ws.write('inv.ini', localInventory(['h1', 'h2']));
    ws.write('pb.yml', PLAYBOOK);
  });
  after(() => ws.cleanup());

  it('stdin is not a terminal: it does not wait, warns as Ansible does, user_input is empty', async () => {
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('pb.yml')], { cwd: ws.dir, input: 'not read\n' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /Not waiting for response to prompt as stdin is not interactive/);
    assert.match(r.stdout, /"msg": "got \[\] echo=false"/);
    // once per batch: h2 has no result of its own
    assert.equal(recap(r.stdout).h2.ok, 0);
  });

  it('with seconds, nothing is read and the pause is the wait', async () => {
    ws.write('timed.yml', PLAYBOOK.replace('echo: false', 'seconds: 1'));
    const r = await runCli(['-i', ws.path('inv.ini'), ws.path('timed.yml')], { cwd: ws.dir, input: 'typed\n' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /Not waiting/);
    assert.match(r.stdout, /"msg": "got \[\] echo=true"/);
  });

  it('on a terminal one line is read and registered; echo: false does not show it', async () => {
    const out = await runOnTerminal(
      ['-i', ws.path('inv.ini'), ws.path('pb.yml')],
      ws.dir,
      'Type the word:',
      'pineapple\r',
    );
    assert.match(out, /"msg": "got \[pineapple\] echo=false"/, out);
    // the word shows once: in the debug line, never as typed
    assert.equal(out.match(/pineapple/g)?.length, 1, out);
  });

  it('echo (the default) shows what is typed', async () => {
    ws.write('echo.yml', PLAYBOOK.replace(', echo: false', ''));
    const out = await runOnTerminal(
      ['-i', ws.path('inv.ini'), ws.path('echo.yml')],
      ws.dir,
      'Type the word:',
      'kiwi\r',
    );
    assert.match(out, /Type the word: kiwi/, out);
    assert.match(out, /"msg": "got \[kiwi\] echo=true"/, out);
  });
});
