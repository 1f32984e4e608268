// scripts/warm-up-host.mjs: the throwaway SSH host the code cache's warm-up run connects to
// while the bundle is built (scripts/code-cache.mjs). It runs commands with /bin/sh as the
// user building, so it must let in its own key only, made in memory for that one build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import type { Client } from 'ssh2';

interface WarmUpHost {
  port: number;
  hostKey: string;
  clientKey: string;
  stop(): void;
}
/** plain JavaScript, run by the build */
const { startWarmUpHost } = (await import(new URL('../../scripts/warm-up-host.mjs', import.meta.url).href)) as {
  startWarmUpHost: () => Promise<WarmUpHost>;
};

/** Connects with `privateKey`; resolves to the client, or to the error that ended the attempt. */
function connect(host: WarmUpHost, privateKey: string): Promise<Client | Error> {
  const expected = Buffer.from(host.hostKey.split(' ')[1], 'base64');
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', (e) => resolve(e));
    client.connect({
      host: '127.0.0.1',
      port: host.port,
      username: 'anyone',
      privateKey,
      readyTimeout: 5000,
      hostVerifier: (key: Buffer) => key.equals(expected),
    });
  });
}

function exec(client: Client, command: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      let code = -1;
      ch.on('data', (d: Buffer) => (out += d.toString()));
      ch.stderr.resume();
      ch.on('exit', (c: number) => (code = c));
      ch.on('close', () => resolve({ code, out }));
    }),
  );
}

test('the warm-up host lets in its own key and no other, and runs commands with /bin/sh', async () => {
  const host = await startWarmUpHost();
  try {
    const stranger = await connect(host, ssh2.utils.generateKeyPairSync('ed25519').private);
    assert.ok(stranger instanceof Error, 'another key is refused');
    assert.match(stranger.message, /authentication methods failed/);

    const client = await connect(host, host.clientKey);
    assert.ok(!(client instanceof Error), `its own key is let in: ${(client as Error).message}`);
    try {
      assert.deepEqual(await exec(client, 'echo ok; exit 3'), { code: 3, out: 'ok\n' });
    } finally {
      client.end();
    }
  } finally {
    host.stop();
  }
});
