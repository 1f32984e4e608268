// Ctrl-C during a run over SSH: the message, the recap so far, exit 130, and the
// running task's command ended on the host (not left to finish after we quit).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomInt } from 'node:crypto';
import { generateKeyPair, startSshd, stopAllSshd, type SshdHandle } from '../lab/sshd.js';
import { binPath, recap, workspace } from './helpers/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a process whose command line contains `text` runs on this machine (the lab host is local). */
async function processRunning(text: string): Promise<boolean> {
  try {
    await promisify(execFile)('pgrep', ['-f', text]);
    return true;
  } catch {
    return false;
  }
}

describe('Ctrl-C', () => {
  let ws: ReturnType<typeof workspace>;
  let host: SshdHandle;

  before(async () => {
    ws = workspace();
    const pair = await generateKeyPair(ws.path('id_ed25519'));
    host = await startSshd({ dir: ws.path('sshd'), authorizedKeys: [pair.publicKey] });
    ws.write('known_hosts', host.knownHostsLine() + '\n');
    ws.write(
      'inv.ini',
      `[pve]\nnode0 ansible_host=127.0.0.1 ansible_port=${host.port} ansible_user=root ` +
        `ansible_ssh_private_key_file=${pair.privatePath} ansible_ssh_known_hosts_file=${ws.path('known_hosts')}\n`,
    );
  });
  after(async () => {
    await stopAllSshd();
    ws.cleanup();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} ends the run: message, recap so far, exit 130, the remote command killed`, async () => {
      // a sleep nobody else runs, so the test can look for it on the host
      const pause = `4.${randomInt(100000, 999999)}`;
      const marker = ws.path(`finished-${pause}`);
      ws.write(
        'pb.yml',
        `- hosts: pve\n  gather_facts: false\n  tasks:\n    - command: "true"\n    - shell: sleep ${pause}; touch ${marker}\n    - command: touch ${marker}-next\n`,
      );
      const child = spawn(process.execPath, [binPath, '-i', ws.path('inv.ini'), ws.path('pb.yml')], {
        cwd: ws.dir,
        env: { ...process.env, HOME: ws.dir, CI: '1', NO_COLOR: '1' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const hardKill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      try {
        // wait until the sleep runs on the host
        const deadline = Date.now() + 10_000;
        while (!(await processRunning(`sleep ${pause}`))) {
          assert.ok(Date.now() < deadline, `the sleep never started:\n${out}`);
          await sleep(100);
        }
        const sent = Date.now();
        child.kill(signal);
        const code = await exited;
        assert.equal(code, 130, out);
        assert.ok(Date.now() - sent < 4000, `exited ${Date.now() - sent} ms after ${signal}`);
        assert.match(out, new RegExp(`interrupted \\(${signal}\\)`));
        assert.equal(recap(out).node0?.ok, 1, out);
        assert.equal(await processRunning(`sleep ${pause}`), false, 'the sleep still runs on the host');
        await sleep(Number(pause) * 1000 + 500);
        assert.ok(!existsSync(marker), 'the interrupted command went on and finished on the host');
        assert.ok(!existsSync(`${marker}-next`), 'a task started after the interruption');
      } finally {
        clearTimeout(hardKill);
      }
    });
  }
});
