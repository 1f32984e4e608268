// The generic modules over a real OpenSSH server on loopback: content through
// exec stdin, become via sudo, and the round-trip budget (≤ 2 per task for
// file, copy, command) counted on the SSH connection itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, startSshd, stopAllSshd } from '../lab/sshd.js';
import command from '../modules/command.js';
import copy from '../modules/copy.js';
import file from '../modules/file.js';
import lineinfile from '../modules/lineinfile.js';
import statModule from '../modules/stat.js';
import waitFor from '../modules/wait_for.js';
import { openConnection } from '../src/connection/index.js';
import type { Connection } from '../src/connection/types.js';
import type { ModuleDefinition } from '../src/module.js';
import { createUser, removeDir, run, tempDir } from './modules-harness.js';

let dir: string;
let conn: Connection;
let user: ReturnType<typeof createUser>;
const USER = 'phxsshtest';

before(async () => {
  dir = tempDir('phx-mod-ssh-');
  chmodSync(dir, 0o755);
  const pair = await generateKeyPair(join(dir, 'id_ed25519'));
  const sshd = await startSshd({
    dir: join(dir, 'sshd'),
    authorizedKeys: [pair.publicKey],
    extraConfig: ['SetEnv SHLVL=1'],
  });
  writeFileSync(join(dir, 'known_hosts'), sshd.knownHostsLine() + '\n');
  conn = openConnection(
    'sshtarget',
    {
      ansible_host: '127.0.0.1',
      ansible_port: sshd.port,
      ansible_user: 'root',
      ansible_ssh_private_key_file: pair.privatePath,
      ansible_ssh_known_hosts_file: join(dir, 'known_hosts'),
    },
    { homeDir: dir, agentSocket: null, sshConfigFiles: [], globalKnownHostsFiles: [] },
  );
  await conn.connect();
  user = createUser(USER);
});
after(async () => {
  await conn?.close();
  await stopAllSshd();
  user?.remove();
  removeDir(dir);
});

async function twice(def: ModuleDefinition, args: Record<string, unknown>, budget = 2) {
  const first = await run(def, args, { conn });
  assert.equal(first.result.failed, undefined, String(first.result.msg));
  assert.equal(first.result.changed, true);
  assert.ok(first.roundTrips <= budget, `${def.name}: ${first.roundTrips} round trips`);
  const second = await run(def, args, { conn });
  assert.equal(second.result.changed, false, `${def.name} second run`);
  assert.equal(second.roundTrips, 1);
  return first.result;
}

describe('generic modules over SSH', () => {
  it('file, copy (1 MB binary through stdin), lineinfile, command: ≤ 2 round trips, then ok in 1', async () => {
    const d = join(dir, 'out', 'etc');
    await twice(file, { path: d, state: 'directory', mode: '0750', owner: USER });
    assert.equal(statSync(d).uid, user.uid);
    const blob = randomBytes(1024 * 1024);
    writeFileSync(join(dir, 'blob'), blob);
    const r = await twice(copy, { src: join(dir, 'blob'), dest: join(d, 'blob'), mode: '0600', group: USER });
    assert.deepEqual(readFileSync(join(d, 'blob')), blob);
    assert.equal(r.size, blob.length);
    await twice(copy, { content: "k = '$(id)'\n", dest: join(d, 'app.conf') });
    await twice(lineinfile, { path: join(d, 'app.conf'), line: 'port = 80', insertbefore: 'BOF' });
    assert.equal(readFileSync(join(d, 'app.conf'), 'utf8'), "port = 80\nk = '$(id)'\n");
    await twice(command, { argv: ['touch', join(d, 'marker')], creates: join(d, 'marker') });
    const st = await run(statModule, { path: join(d, 'marker') }, { conn });
    assert.equal((st.result.stat as Record<string, unknown>).exists, true);
    assert.equal(st.roundTrips, 1);
    const w = await run(waitFor, { path: join(d, 'marker'), timeout: 2 }, { conn });
    assert.equal(w.result.failed, undefined);
    assert.equal(w.roundTrips, 1);
  });

  it('become: sudo to another user for the facts and the write', async () => {
    const home = join(dir, 'home');
    await run(file, { path: home, state: 'directory', owner: USER }, { conn });
    const r = await run(copy, { content: 'mine\n', dest: join(home, 'f') }, { conn, become: { user: USER } });
    assert.equal(r.result.failed, undefined, String(r.result.msg));
    assert.equal(r.result.owner, USER);
    assert.equal(statSync(join(home, 'f')).uid, user.uid);
    const who = await run(command, 'id -un', { conn, become: { user: USER } });
    assert.equal(who.result.stdout, USER);
  });
});
