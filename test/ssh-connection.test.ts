// The SSH connection against real OpenSSH sshd processes on 127.0.0.1: auth
// methods, host key checking, ProxyJump, failures, parallelism, and hostile
// values that must arrive as data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '../lab/sshd.js';
import { openConnection } from '../src/connection/index.js';
import { buildCommand } from '../src/connection/command.js';
import { UnreachableError } from '../src/errors.js';
import type { Connection } from '../src/connection/types.js';
import { closedPort, createSshEnv, fingerprintOf, fileExists, run, type SshTestEnv } from './harness/ssh-env.js';

let env: SshTestEnv;
const conns: Connection[] = [];
const track = (c: Connection) => (conns.push(c), c);

before(async () => {
  env = await createSshEnv('ssh');
});
after(async () => {
  await Promise.all(conns.map((c) => c.close()));
  await env.cleanup();
});

async function unreachable(p: Promise<unknown>, pattern: RegExp): Promise<UnreachableError> {
  try {
    await p;
  } catch (e) {
    assert.ok(
      e instanceof UnreachableError,
      `expected UnreachableError, got ${(e as Error).name}: ${(e as Error).message}`,
    );
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected the host to be unreachable');
}

test('key auth: one connection, exec returns rc/stdout/stderr, parallel channels, signals', async () => {
  const h = await env.startHost();
  const debug: string[] = [];
  const c = track(openConnection('pve1', env.hostVars(h), env.options({ onDebug: (m) => debug.push(m) })));
  assert.equal(c.kind, 'ssh');
  await c.connect();
  assert.ok(debug.some((m) => m.includes(`auth: trying key ${env.key.privatePath}`)));
  const r = await c.exec('echo out; echo err >&2; exit 3');
  assert.deepEqual(r, { rc: 3, stdout: 'out\n', stderr: 'err\n' });
  // a command killed by a signal: sh's 128 + n (only an exec channel also names the signal)
  const sig = await c.exec("sh -c 'kill -TERM $$'");
  assert.equal(sig.rc, 128 + 15);
  // stdin reaches the command, and 30 commands share the one connection at once
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => c.exec('cat; echo " $PPID"', { stdin: `n${i}` })));
  rs.forEach((x, i) => assert.match(x.stdout, new RegExp(`^n${i} \\d+\\n$`)));
  // every channel's shell is a child of the same sshd connection process: one TCP connection
  const sessions = new Set(rs.map((x) => x.stdout.split(' ')[1].trim()));
  assert.equal(sessions.size, 1, 'one sshd connection process served all channels');
  // a second connect() is a no-op
  await c.connect();
});

test("sshd's default MaxSessions 10: 40 parallel execs and file transfers queue instead of failing", async () => {
  const h = await env.startHost({ extraConfig: ['MaxSessions 10'] });
  const c = track(openConnection('ms', env.hostVars(h), env.options()));
  const dir = join(env.root, 'maxsessions');
  const work = Array.from({ length: 40 }, async (_, i) => {
    const r = await c.exec(`sleep 0.05; echo ${i}`);
    await c.putFile(join(dir, `f${i}`), Buffer.from(r.stdout));
    return (await c.getFile(join(dir, `f${i}`)))!.toString();
  });
  const out = await Promise.all(work);
  out.forEach((o, i) => assert.equal(o, `${i}\n`));
});

test('per-exec timeout stops waiting for the command (rc 137) and keeps the connection', async () => {
  const h = await env.startHost();
  const c = track(openConnection('t', env.hostVars(h), env.options()));
  const t0 = Date.now();
  const r = await c.exec('sleep 20', { timeoutMs: 300 });
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(r.rc, 137);
  assert.match(r.stderr, /timed out after 0.3 s/);
  assert.equal((await c.exec('echo still here')).stdout, 'still here\n');
});

test('SFTP: putFile creates dirs, sets the mode, replaces atomically; getFile reads, null when missing', async () => {
  const h = await env.startHost();
  const c = track(openConnection('f', env.hostVars(h), env.options()));
  const target = join(env.root, 'remote', 'a', 'b', 'file.conf');
  await c.putFile(target, Buffer.from('one\n'), { mode: 0o600 });
  assert.equal(await readFile(target, 'utf8'), 'one\n');
  assert.equal((await stat(target)).mode & 0o777, 0o600);
  await c.putFile(target, Buffer.from('two\n'), { mode: 0o640 });
  assert.equal(await readFile(target, 'utf8'), 'two\n');
  assert.equal((await stat(target)).mode & 0o777, 0o640);
  const big = randomBytes(2_500_000);
  await c.putFile(join(env.root, 'remote', 'big.bin'), big);
  assert.ok((await c.getFile(join(env.root, 'remote', 'big.bin')))!.equals(big));
  assert.equal(await c.getFile(join(env.root, 'remote', 'missing')), null);
  const leftovers = (await run('find', [join(env.root, 'remote'), '-name', '.*phx-*'])).stdout;
  assert.equal(leftovers, '', 'no temp files left behind');
});

test('agent auth through a real ssh-agent', async () => {
  const h = await env.startHost();
  const agentKey = await generateKeyPair(join(env.root, 'agent', 'id_agent'));
  const h2 = await env.startHost({ authorizedKeys: [agentKey.publicKey] });
  const sock = join(env.root, 'agent', 'sock');
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !fileExists(sock); i++) await new Promise((r) => setTimeout(r, 20));
    await run('ssh-add', ['-q', agentKey.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    const debug: string[] = [];
    // no key file at all: only the agent can log in
    const c = track(
      openConnection(
        'ag',
        env.hostVars(h2),
        env.options({ privateKey: undefined, agentSocket: sock, onDebug: (m) => debug.push(m) }),
      ),
    );
    assert.equal((await c.exec('echo via-agent')).stdout, 'via-agent\n');
    assert.ok(debug.some((m) => m.includes('ssh-agent')));
    assert.ok(!debug.some((m) => m.includes('trying key')), 'no key file was needed');
    await c.close();
    // the agent's key is not authorised on the first host, and without a key file nothing else works
    const denied = openConnection('ag2', env.hostVars(h), env.options({ privateKey: undefined, agentSocket: sock }));
    await unreachable(denied.connect(), /permission denied \(tried agent\)/);
  } finally {
    agent.kill();
  }
});

test('password auth for a user with a password; a wrong password is unreachable', async () => {
  const user = await env.addUser('phxpw', 'S3cret pass!');
  const h = await env.startHost({ passwordAuth: true, authorizedKeys: [] });
  const c = track(
    openConnection(
      'pw',
      env.hostVars(h, { ansible_user: user, ansible_password: 'S3cret pass!' }),
      env.options({ privateKey: undefined }),
    ),
  );
  assert.equal((await c.exec('id -un')).stdout, `${user}\n`);
  const bad = openConnection(
    'pw2',
    env.hostVars(h, { ansible_user: user, ansible_password: 'wrong' }),
    env.options({ privateKey: undefined }),
  );
  const e = await unreachable(bad.connect(), /permission denied \(tried password\)/);
  assert.doesNotMatch(e.message, /wrong/, 'the password is not in the error');
  // -k style: the password comes from the options
  const k = track(
    openConnection(
      'pw3',
      env.hostVars(h, { ansible_user: user }),
      env.options({ privateKey: undefined, password: 'S3cret pass!' }),
    ),
  );
  assert.equal((await k.exec('echo ok')).stdout, 'ok\n');
});

test('encrypted key: passphrase from the option, or asked once for many hosts; wrong passphrase fails', async () => {
  const enc = await generateKeyPair(join(env.root, 'enc', 'id_enc'), 'ed25519', 'pass phrase');
  const h = await env.startHost({ authorizedKeys: [enc.publicKey] });
  const c = track(
    openConnection(
      'e1',
      env.hostVars(h),
      env.options({ privateKey: enc.privatePath, privateKeyPassphrase: 'pass phrase' }),
    ),
  );
  assert.equal((await c.exec('echo unlocked')).stdout, 'unlocked\n');

  const enc2 = await generateKeyPair(join(env.root, 'enc', 'id_enc2'), 'ecdsa', 'second');
  const h2 = await env.startHost({ authorizedKeys: [enc2.publicKey] });
  const asked: string[] = [];
  const askPassword = async (prompt: string) => {
    asked.push(prompt);
    await new Promise((r) => setTimeout(r, 50));
    return 'second';
  };
  const many = [1, 2, 3].map((i) =>
    track(openConnection(`e2-${i}`, env.hostVars(h2), env.options({ privateKey: enc2.privatePath, askPassword }))),
  );
  await Promise.all(many.map((m) => m.connect()));
  assert.deepEqual(asked, [`Enter passphrase for key '${enc2.privatePath}': `]);

  const enc3 = await generateKeyPair(join(env.root, 'enc', 'id_enc3'), 'ed25519', 'right');
  const h3 = await env.startHost({ authorizedKeys: [enc3.publicKey] });
  const bad = openConnection(
    'e3',
    env.hostVars(h3),
    env.options({ privateKey: enc3.privatePath, privateKeyPassphrase: 'wrong' }),
  );
  await unreachable(bad.connect(), /permission denied/);
});

test('host keys: unknown refused with fingerprint, changed refused loudly, hashed and [host]:port accepted, revoked refused', async () => {
  const h = await env.startHost({ trust: false });
  const fp = await fingerprintOf(h.hostKeyPub, env.root);
  const kh = join(env.root, 'kh-test');
  const opts = env.options({ knownHostsFile: kh });

  await writeFile(kh, '');
  await unreachable(
    openConnection('u', env.hostVars(h), opts).connect(),
    new RegExp(
      `host key for \\[127\\.0\\.0\\.1\\]:${h.port} is unknown \\(ssh-ed25519 ${fp.replace(/[+/]/g, '\\$&')}\\); verify it and add it to known_hosts, or run with --ssh-accept-new`,
    ),
  );

  // a port-less entry does not vouch for another port
  await writeFile(kh, `127.0.0.1 ${h.hostKeyPub}\n`);
  await unreachable(openConnection('u2', env.hostVars(h), opts).connect(), /is unknown/);

  // another key on record for this host:port: a possible man-in-the-middle
  const other = await generateKeyPair(join(env.root, 'otherhostkey'));
  const before = `# first line\n[127.0.0.1]:${h.port} ${other.publicKey}\n`;
  await writeFile(kh, before);
  const e = await unreachable(
    openConnection('c', env.hostVars(h), env.options({ knownHostsFile: kh, acceptNew: true })).connect(),
    /REMOTE HOST IDENTIFICATION HAS CHANGED.*man-in-the-middle/,
  );
  assert.ok(e.message.includes(`${kh}:2`), e.message);
  assert.ok(e.message.includes(fp), e.message);
  assert.equal(await readFile(kh, 'utf8'), before, 'accept-new never replaces a changed key');

  // hashed entry (ssh-keygen -H), with the port in brackets
  await writeFile(kh, `${h.knownHostsLine()}\n`);
  await run('ssh-keygen', ['-H', '-f', kh]);
  assert.match(await readFile(kh, 'utf8'), /^\|1\|/);
  const ok = openConnection('hashed', env.hostVars(h), opts);
  assert.equal((await ok.exec('echo hashed-ok')).stdout, 'hashed-ok\n');
  await ok.close();

  // comma host list with the bracketed form
  await writeFile(kh, `pve-lab,[127.0.0.1]:${h.port} ${h.hostKeyPub}\n`);
  const list = openConnection('list', env.hostVars(h), opts);
  await list.connect();
  await list.close();

  await writeFile(kh, `@revoked * ${h.hostKeyPub}\n${h.knownHostsLine()}\n`);
  await unreachable(openConnection('rev', env.hostVars(h), opts).connect(), /REVOKED/);
});

test('accept-new adds the key (once) and later connections trust it; the host var works too', async () => {
  const h = await env.startHost({ trust: false });
  const kh = join(env.root, 'kh-new', 'known_hosts'); // directory does not exist yet
  const c = openConnection('n', env.hostVars(h), env.options({ knownHostsFile: kh, acceptNew: true }));
  await c.connect();
  await c.close();
  assert.equal(await readFile(kh, 'utf8'), `${h.knownHostsLine()}\n`);
  const again = openConnection('n', env.hostVars(h), env.options({ knownHostsFile: kh }));
  await again.connect();
  await again.close();

  const h2 = await env.startHost({ trust: false });
  const viaVar = openConnection(
    'n2',
    env.hostVars(h2, { ansible_ssh_host_key_checking: 'accept-new' }),
    env.options({ knownHostsFile: kh }),
  );
  await viaVar.connect();
  await viaVar.close();
  assert.equal(await readFile(kh, 'utf8'), `${h.knownHostsLine()}\n${h2.knownHostsLine()}\n`);

  // host_key_checking=false is not honoured silently
  await unreachable(
    openConnection('off', env.hostVars(h2, { ansible_ssh_host_key_checking: false }), env.options()).connect(),
    /always verifies host keys/,
  );
});

test('10 hosts in parallel, accepting their keys into one known_hosts file at once', async () => {
  const hosts = await Promise.all(
    Array.from({ length: 10 }, (_, i) => env.startHost({ trust: false, name: `par${i}` })),
  );
  const kh = join(env.root, 'kh-par');
  const cs = hosts.map((h, i) =>
    track(openConnection(`par${i}`, env.hostVars(h), env.options({ knownHostsFile: kh, acceptNew: true }))),
  );
  const t0 = Date.now();
  const out = await Promise.all(cs.map((c, i) => c.exec(`echo host${i}`)));
  const elapsed = Date.now() - t0;
  out.forEach((r, i) => assert.equal(r.stdout, `host${i}\n`));
  assert.ok(elapsed < 5000, `10 hosts took ${elapsed} ms`);
  const lines = (await readFile(kh, 'utf8')).trim().split('\n').sort();
  assert.deepEqual(lines, hosts.map((h) => h.knownHostsLine()).sort());
});

test('ProxyJump from ~/.ssh/config: through a bastion sshd to the target', async () => {
  const bastion = await env.startHost({ name: 'bastion' });
  const target = await env.startHost({ name: 'target' });
  await writeFile(
    join(env.home, '.ssh', 'config'),
    [
      'Host pve-behind',
      '  HostName 127.0.0.1',
      `  Port ${target.port}`,
      '  User root',
      `  IdentityFile ${env.key.privatePath}`,
      '  ProxyJump jump',
      'Host jump',
      '  HostName 127.0.0.1',
      `  Port ${bastion.port}`,
      '  User root',
      `  IdentityFile ${env.key.privatePath}`,
      '',
    ].join('\n'),
  );
  try {
    const debug: string[] = [];
    // no ansible_host/port/user: everything comes from the ssh config
    const c = openConnection('pve-behind', {}, env.options({ privateKey: undefined, onDebug: (m) => debug.push(m) }));
    assert.equal((await c.exec('echo behind')).stdout, 'behind\n');
    assert.ok(debug.some((m) => m.includes(`root@127.0.0.1:${bastion.port}: connected`)));
    assert.ok(debug.some((m) => m.includes(`root@127.0.0.1:${target.port}: connected`)));
    // proof the traffic runs through the bastion: without it the target is gone
    await bastion.kill();
    await unreachable(c.exec('echo gone'), /connection lost/);
    await c.close();

    // -J in ansible_ssh_common_args works too, and the jump host's key is verified
    const bastion2 = await env.startHost({ name: 'bastion2', trust: false });
    const viaArgs = openConnection(
      'x',
      env.hostVars(target, { ansible_ssh_common_args: `-J root@127.0.0.1:${bastion2.port}` }),
      env.options(),
    );
    await unreachable(viaArgs.connect(), new RegExp(`host key for \\[127\\.0\\.0\\.1\\]:${bastion2.port} is unknown`));
  } finally {
    await rm(join(env.home, '.ssh', 'config'), { force: true });
  }
});

test('precedence: inventory vars beat ~/.ssh/config, which beats defaults; local and bad vars', async () => {
  const h = await env.startHost({ name: 'prec' });
  const down = await closedPort();
  await writeFile(
    join(env.home, '.ssh', 'config'),
    ['Host pve-prec', '  HostName 127.0.0.1', `  Port ${down}`, '  User nobody-here', ''].join('\n'),
  );
  try {
    // config alone points at a closed port as a user that does not exist
    await unreachable(
      openConnection('pve-prec', {}, env.options()).connect(),
      new RegExp(`nobody-here@127\\.0\\.0\\.1:${down}: connection refused`),
    );
    // ansible_port and ansible_user win; the HostName from the config still applies
    const c = track(openConnection('pve-prec', { ansible_port: h.port, ansible_user: 'root' }, env.options()));
    assert.equal((await c.exec('echo precedence')).stdout, 'precedence\n');
  } finally {
    await rm(join(env.home, '.ssh', 'config'), { force: true });
  }
  assert.equal(openConnection('me', { ansible_connection: 'local' }, env.options()).kind, 'local');
  assert.throws(
    () => openConnection('bad', { ansible_port: 'twenty-two' }, env.options()),
    /ansible_port must be a port number/,
  );
  // a list is not a port, even a list of one port
  assert.throws(
    () => openConnection('bad', { ansible_port: ['22'] }, env.options()),
    /ansible_port must be a port number.*got \["22"\]/,
  );
  assert.throws(() => openConnection('bad', { ansible_connection: 'winrm' }, env.options()), /not supported/);
});

test('a host that is down is unreachable at once; a silent one times out', async () => {
  const port = await closedPort();
  const t0 = Date.now();
  await unreachable(
    openConnection('down', { ansible_host: '127.0.0.1', ansible_port: port }, env.options()).connect(),
    /connection refused/,
  );
  assert.ok(Date.now() - t0 < 2000);

  // accepts TCP but never speaks SSH
  const held: Socket[] = [];
  const silent: Server = createServer((sock) => held.push(sock));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const addr = silent.address();
  const sport = typeof addr === 'object' && addr ? addr.port : 0;
  try {
    const t1 = Date.now();
    const c = openConnection(
      'silent',
      { ansible_host: '127.0.0.1', ansible_port: sport },
      env.options({ connectTimeoutMs: 400 }),
    );
    await unreachable(c.connect(), /connect timeout after 0.4 s/);
    assert.ok(Date.now() - t1 < 2000);
    // the failed connection stays failed: no silent reconnect
    await unreachable(c.exec('true'), /connect timeout/);
  } finally {
    for (const sock of held) sock.destroy();
    silent.close();
  }
});

test('sshd killed mid-run: the running exec and later ones are unreachable, other hosts go on', async () => {
  const doomed = await env.startHost();
  const healthy = await env.startHost();
  const a = track(openConnection('doomed', env.hostVars(doomed), env.options()));
  const b = track(openConnection('healthy', env.hostVars(healthy), env.options()));
  await Promise.all([a.connect(), b.connect()]);
  // the verdict is attached at once: the rejection comes while kill() is still waiting
  const running = unreachable(a.exec('sleep 30'), /connection lost/);
  const other = b.exec('sleep 0.5; echo fine');
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await doomed.kill();
  await running;
  assert.ok(Date.now() - t0 < 3000);
  await unreachable(a.exec('echo again'), /connection lost/);
  await unreachable(a.putFile(join(env.root, 'x'), Buffer.from('x')), /connection lost/);
  assert.equal((await other).stdout, 'fine\n');
});

const HOSTILE = [
  '$(touch MARKER)',
  '`touch MARKER`',
  '; touch MARKER; rm -rf /nonexistent-phx',
  "it's a 'quote'",
  'double "quotes" and \\backslash\\',
  'line one\nline two\n; touch MARKER\n',
  '*',
  '/etc/*',
  '?[a-z]*',
  'ünïcødé ✓ 日本語',
  '-rf',
  '--help',
  '-n',
  '$HOME ${PATH} $$ $? !! ~',
  '| touch MARKER & touch MARKER > MARKER',
  ' leading and trailing spaces ',
  '\ttab\t',
];

test('hostile values reach the target as data, byte for byte, and nothing runs', async () => {
  const h = await env.startHost();
  const c = track(openConnection('hostile', env.hostVars(h), env.options()));
  const marker = join(env.root, `owned-${randomBytes(4).toString('hex')}`);
  const dir = join(env.root, 'hostile');
  await c.exec(buildCommand(['mkdir', '-p', dir]).command);
  for (const [i, raw] of HOSTILE.entries()) {
    const value = raw.replaceAll('MARKER', marker);
    // as an argument: printf writes it to a file named after it
    const file = join(dir, `${i}-${value.replace(/[/\n]/g, '_')}`);
    const w = await c.exec(buildCommand(['sh', '-c', 'printf %s "$1" > "$2"', 'sh', value, file]).command);
    assert.equal(w.rc, 0, w.stderr);
    assert.equal(await readFile(file, 'utf8'), value, `value ${i} written byte for byte`);
    // as an argv word echoed back
    const back = await c.exec(buildCommand(['printf', '%s', value]).command);
    assert.equal(back.stdout, value);
    // through stdin, with chdir and env values that are hostile too
    const viaStdin = buildCommand(['sh', '-c', 'cat > "$1"; printf %s "$V"', 'sh', `${file}.stdin`], {
      stdin: value,
      env: { V: value },
      chdir: dir,
    });
    const s = await c.exec(viaStdin.command, { stdin: viaStdin.stdin });
    assert.equal(s.stdout, value);
    assert.ok((await c.getFile(`${file}.stdin`))!.equals(Buffer.from(value)));
    // and as a file name over SFTP
    await c.putFile(`${file}.sftp`, Buffer.from(value));
    assert.equal((await c.exec(buildCommand(['cat', '--', `${file}.sftp`]).command)).stdout, value);
  }
  assert.equal(fileExists(marker), false, 'no hostile value was executed');
  const listed = (await c.exec(buildCommand(['ls', '-1', dir]).command)).stdout;
  assert.equal(listed.split('\n').filter((l) => l.endsWith('.sftp')).length, HOSTILE.length);
});
