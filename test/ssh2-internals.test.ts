// src/connection/ssh2-internals.ts reaches into ssh2's private channel fields
// to send SIGKILL to a command whose stdin is already closed (ssh2's own
// channel.signal() then does nothing). This pins it: the installed ssh2 must be
// the version that code was written for, and the kill must really end the
// command on a real sshd, directly and through the connection (task timeout,
// abort). The commands run as an ordinary user: OpenSSH refuses to signal a
// root session (no privilege separation after a root login).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import ssh2 from 'ssh2';
import type { Client, ClientChannel } from 'ssh2';
import type { SshdHandle } from '../lab/sshd.js';
import { openConnection } from '../src/connection/index.js';
import { sendKill, SSH2_VERSION_RELIED_ON } from '../src/connection/ssh2-internals.js';
import type { Connection } from '../src/connection/types.js';
import { createSshEnv, type SshTestEnv } from './harness/ssh-env.js';

let env: SshTestEnv;
let host: SshdHandle;
let user: string;
const conns: Connection[] = [];
const clients: Client[] = [];

before(async () => {
  env = await createSshEnv('ssh2-internals');
  // the user first: sshd gets its authorized_keys file when it starts
  user = await env.addUser('phxkill', 'unused-but-unlocked');
  host = await env.startHost();
});
after(async () => {
  for (const c of clients) c.end();
  await Promise.all(conns.map((c) => c.close()));
  await env.cleanup();
});

test('the installed ssh2 is the version ssh2-internals.ts was written for', async () => {
  const pkgPath = createRequire(import.meta.url).resolve('ssh2/package.json');
  const { version } = JSON.parse(await readFile(pkgPath, 'utf8')) as { version: string };
  assert.equal(
    version,
    SSH2_VERSION_RELIED_ON,
    `ssh2 ${version} is installed (${pkgPath}), but src/connection/ssh2-internals.ts reaches into the private ` +
      `channel fields of ssh2 ${SSH2_VERSION_RELIED_ON}: check sendKill against the new lib/Channel.js, ` +
      `then update SSH2_VERSION_RELIED_ON`,
  );
});

/** Whether a process exists on this machine (the lab's sshd runs here, so its sessions do too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

function rawClient(to: SshdHandle = host, username = user): Promise<Client> {
  const hostKey = Buffer.from(to.hostKeyPub.split(' ')[1], 'base64');
  return readFile(env.key.privatePath).then(
    (privateKey) =>
      new Promise<Client>((resolve, reject) => {
        const client = new ssh2.Client();
        clients.push(client);
        client.once('ready', () => resolve(client));
        client.once('error', reject);
        client.connect({
          host: '127.0.0.1',
          port: to.port,
          username,
          privateKey,
          hostVerifier: (key: Buffer) => key.equals(hostKey),
        });
      }),
  );
}

test('sendKill ends a command whose stdin is closed: exit signal SIGKILL, the process is gone', async () => {
  const client = await rawClient();
  const ch = await new Promise<ClientChannel>((res, rej) =>
    client.exec('echo $$; exec sleep 30', (err, c) => (err ? rej(err) : res(c))),
  );
  const exited = new Promise<{ code: number | null; signal?: string }>((res) =>
    ch.on('exit', (code: number | null, signal?: string) => res({ code, signal })),
  );
  const pid = await new Promise<number>((res) => ch.once('data', (d: Buffer) => res(Number(d.toString().trim()))));
  assert.ok(pid > 0 && alive(pid), `the command runs (pid ${pid})`);
  ch.end(); // stdin closed, as the connection always has it: ssh2's channel.signal() would now do nothing
  sendKill(ch);
  const noExit = new Promise<'none'>((res) => setTimeout(() => res('none'), 3000).unref());
  const exit = await Promise.race([exited, noExit]);
  assert.notEqual(exit, 'none', 'no exit status within 3 s: the kill did not reach the command');
  assert.deepEqual(exit, { code: null, signal: 'SIGKILL' });
  assert.ok(await goneWithin(pid, 3000), `process ${pid} is gone`);
});

/** More than the remote shell takes as stdin (1 MiB): the command goes on an exec channel, where sendKill acts. */
const CHANNEL_STDIN = Buffer.alloc(1024 * 1024 + 10, 'z');

function connectAsUser(): Connection {
  const c = openConnection('kill', env.hostVars(host, { ansible_user: user }), env.options());
  conns.push(c);
  return c;
}

test("the task timeout's backstop kills the command on the host (no host-side timeout here)", async () => {
  const c = connectAsUser();
  const t0 = Date.now();
  const r = await c.exec('cat >/dev/null; echo $$; exec sleep 30', { stdin: CHANNEL_STDIN, timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 5000, 'did not wait for the command');
  assert.equal(r.rc, 137);
  assert.match(r.stderr, /timed out after 0.3 s/);
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, `the command printed its pid: ${JSON.stringify(r.stdout)}`);
  assert.ok(await goneWithin(pid, 3000), `process ${pid} was killed, not left running`);
});

test('an aborted exec-channel command is killed on the host', async () => {
  const c = connectAsUser();
  const pidFile = `phx-kill-${process.pid}.pid`; // relative: commands start in the user's home
  const ac = new AbortController();
  const aborted = c.exec(`cat >/dev/null; echo $$ > ${pidFile}; exec sleep 30`, {
    stdin: CHANNEL_STDIN,
    signal: ac.signal,
  });
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    pid = Number((await c.exec(`cat ${pidFile} 2>/dev/null`)).stdout.trim());
    if (!pid) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(pid > 0 && alive(pid), 'the command is running');
  ac.abort(new Error('stop it'));
  await assert.rejects(aborted, /stop it/);
  assert.ok(await goneWithin(pid, 3000), `process ${pid} was killed, not left running`);
});

function execOn(client: Client, command: string): Promise<string> {
  return new Promise<string>((res, rej) =>
    client.exec(command, (err, ch) => {
      if (err) return rej(err);
      let out = '';
      ch.on('data', (d: Buffer) => (out += d.toString()));
      ch.stderr.resume();
      ch.on('close', () => res(out));
    }),
  );
}

test("sshd's host key announcement gets no proof request (ssh2 alone asks for one per connection)", async () => {
  // sshd logs each global request it serves at DEBUG1 (serverloop.c server_input_global_request)
  const h = await env.startHost({ name: 'hostkeys', extraConfig: ['LogLevel DEBUG1'] });
  const proofsAsked = async () =>
    (await readFile(join(h.dir, 'sshd.log'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('hostkeys-prove-00@openssh.com')).length;
  // sshd announces its keys before it serves the first channel, and serves requests in order:
  // once a second command has run, a proof request sent on the announcement has been served
  const raw = await rawClient(h, 'root');
  await execOn(raw, 'true');
  assert.equal(await execOn(raw, 'echo ok'), 'ok\n');
  assert.equal(await proofsAsked(), 1, 'ssh2 on its own asks for the proof (this test can see it)');

  const c = openConnection('hostkeys', env.hostVars(h), env.options());
  conns.push(c);
  await c.exec('true');
  assert.deepEqual(await c.exec('echo ok'), { rc: 0, stdout: 'ok\n', stderr: '' });
  assert.equal(await proofsAsked(), 1, 'the connection asked for no proof');
});
