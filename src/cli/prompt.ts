// Asks for a secret on the terminal without echoing it (-K, -k, key passphrases).
import { PhxError } from '../errors.js';

export async function askSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    throw new PhxError(
      `${prompt.trim()} needs a terminal; set the variable instead (e.g. ansible_become_password in an inventory or -e @secrets.yml)`,
    );
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new PhxError('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    input.on('data', onData);
  });
}

/**
 * A vault password: asked on the terminal, or (as ansible reads it when there is no
 * terminal, e.g. `echo pw | phx-play --ask-vault-pass ...`) the next line of stdin.
 */
export async function askVaultSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) return askSecret(prompt);
  return stdinLine();
}

let stdinBuffer: Buffer = Buffer.alloc(0);
let stdinEnded = false;

async function stdinLine(): Promise<string> {
  const input = process.stdin;
  for (;;) {
    const nl = stdinBuffer.indexOf(0x0a);
    if (nl !== -1 || stdinEnded) {
      const end = nl === -1 ? stdinBuffer.length : nl;
      const line = stdinBuffer.subarray(0, end).toString('utf8').replace(/\r$/, '');
      stdinBuffer = stdinBuffer.subarray(nl === -1 ? end : end + 1);
      return line;
    }
    const chunk = await new Promise<Buffer | null>((resolve, reject) => {
      const onData = (b: Buffer) => done(b);
      const onEnd = () => done(null);
      const onError = (e: Error) => {
        cleanup();
        reject(e);
      };
      const cleanup = () => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('error', onError);
        input.pause();
      };
      const done = (b: Buffer | null) => {
        cleanup();
        resolve(b);
      };
      input.on('data', onData);
      input.once('end', onEnd);
      input.once('error', onError);
      input.resume();
    });
    if (chunk === null) stdinEnded = true;
    else stdinBuffer = Buffer.concat([stdinBuffer, chunk]);
  }
}
