// A large copy over SSH whose phx-play is killed (SIGKILL) while the bytes
// travel: the host sees its input end early, and must keep the old file
// byte-identical (or, had the transfer finished, have the whole new one),
// never a truncated file with the final mode. Real sshd on loopback, real CLI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { generateKeyPair, startSshd, stopAllSshd } from '../lab/sshd.js';
import { binPath, workspace } from './helpers/cli.js';

let ws: ReturnType<typeof workspace>;
before(async () => {
  ws = workspace();
  chmodSync(ws.dir, 0o755);
  const pair = await generateKeyPair(ws.path('id_ed25519'));
  const sshd = await startSshd({ dir: ws.path('sshd'), authorizedKeys: [pair.publicKey] });
  ws.write('known_hosts', `${sshd.knownHostsLine()}\n`);
  ws.write(
    'inv.ini',
    `target ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=root ` +
      `ansible_ssh_private_key_file=${pair.privatePath} ansible_ssh_known_hosts_file=${ws.path('known_hosts')}\n`,
  );
});
after(async () => {
  await stopAllSshd();
  ws.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const temps = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.big.bin.phx-'));

it('SIGKILL of phx-play during a 48 MB copy leaves the old file byte-identical, and no temp file', async () => {
  const destDir = ws.path('host');
  ws.write('host/big.bin', 'the old content\n');
  const dest = ws.path('host/big.bin');
  const old = readFileSync(dest);
  const blob = randomBytes(48 * 1024 * 1024);
  writeFileSync(ws.path('blob.bin'), blob);
  ws.write(
    'pb.yml',
    `- hosts: target\n  gather_facts: false\n  tasks:\n    - copy: { src: ${ws.path('blob.bin')}, dest: ${dest}, mode: "0600" }\n`,
  );
  const child = spawn(process.execPath, [binPath, '-i', ws.path('inv.ini'), ws.path('pb.yml')], {
    cwd: ws.dir,
    env: { ...process.env, HOME: ws.dir, CI: '1', NO_COLOR: '1' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.on('close', () => r()));

  // kill as soon as the temp file on the host has part of the content
  let seen = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && seen === 0) {
    for (const n of temps(destDir)) {
      try {
        const size = lstatSync(`${destDir}/${n}`).size;
        if (size > 1024 * 1024 && size < blob.length) seen = size;
      } catch {
        /* renamed or removed meanwhile */
      }
    }
    if (seen === 0) await sleep(2);
  }
  child.kill('SIGKILL');
  await exited;
  assert.ok(seen > 0, 'the transfer was caught midway');

  // the host side notices the end of its input; give it time to finish whatever it does
  for (let i = 0; i < 200 && temps(destDir).length > 0; i++) await sleep(50);
  await sleep(300);
  const now = readFileSync(dest);
  assert.ok(
    now.equals(old) || now.equals(blob),
    `dest is the old or the new file, not ${now.length} bytes of a cut copy`,
  );
  assert.ok(now.equals(old), 'killed midway: the old file is kept');
  assert.equal(lstatSync(dest).mode & 0o7777, 0o644, 'the old file keeps its mode');
  assert.deepEqual(temps(destDir), [], 'the short temp file is removed');
});
