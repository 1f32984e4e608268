// A throwaway SSH host for scripts/code-cache.mjs: an ssh2 Server on 127.0.0.1 (ssh2 from
// node_modules, not the bundle, so none of its server code goes into the bundle's code cache)
// that lets in one key, made here and held only by this process, and runs what that key's
// holder asks with /bin/sh, as the user building. A run against it compiles what a run
// compiles at its first connection and first task (the handshake, auth, the remote shell,
// the executor, the reporters), so the code cache holds that too. Host keys are checked
// as always: the caller writes this host's key into its own known_hosts file.
import { spawn } from 'node:child_process';
import ssh2 from 'ssh2';

/**
 * Starts the host; resolves to { port, hostKey ('ssh-ed25519 AAAA…'), clientKey (the private key's
 * OpenSSH text), stop() }.
 */
export function startWarmUpHost() {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519');
  const client = ssh2.utils.generateKeyPairSync('ed25519');
  const allowed = ssh2.utils.parseKey(client.public);
  const children = new Set();
  const conns = new Set();

  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    conn.on('error', () => {});
    conn.on('authentication', (ctx) => {
      const ours =
        ctx.method === 'publickey' &&
        ctx.key.algo === allowed.type &&
        ctx.key.data.equals(allowed.getPublicSSH()) &&
        (!ctx.signature || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
      if (ours) ctx.accept();
      else ctx.reject(['publickey']);
    });
    conn.on('ready', () => {
      conn.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => run(accept(), info.command));
      });
    });
  });

  function run(channel, command) {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'pipe' });
    children.add(child);
    for (const s of [channel, child.stdin, child.stdout, child.stderr]) s.on('error', () => {});
    channel.pipe(child.stdin);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr);
    child.on('close', (code, signal) => {
      children.delete(child);
      if (signal) channel.exit(signal.replace(/^SIG/, ''));
      else channel.exit(code ?? 255);
      channel.end();
    });
  }

  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        hostKey: hostKey.public.split(' ').slice(0, 2).join(' '),
        clientKey: client.private,
        stop() {
          for (const c of children) c.kill('SIGKILL');
          for (const c of conns) c.end();
          server.close();
        },
      });
    });
  });
}
