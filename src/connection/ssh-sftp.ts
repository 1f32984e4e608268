// Files over SSH: one SFTP session per connection, opened when first needed
// (and again after it closes). putFile writes a temp file and renames it over
// the target, so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { shellQuote } from '../quote.js';
import { CHANNEL_RETRIES, retryDelayMs } from './ssh-channels.js';
import type { SshLink } from './ssh-transport.js';
import type { ExecResult } from './types.js';

/** SFTP status codes from ssh2 (numeric `code` on the error). */
const SFTP_NO_SUCH_FILE = 2;
// Chunks no bigger than any server's packet limit, so ssh2 never splits one
// (it would send the rest only after the first answer, after our close).
const SFTP_CHUNK = 32 * 1024;

export class SftpFiles {
  private session: Promise<SFTPWrapper> | undefined;

  constructor(
    private readonly link: SshLink,
    /** the connected client (UnreachableError when the link is dead) */
    private readonly live: () => Promise<Client>,
    /** runs a command on the host: mkdir for a missing directory */
    private readonly exec: (command: string) => Promise<ExecResult>,
  ) {}

  async putFile(path: string, data: Buffer, opts: { mode?: number } = {}): Promise<void> {
    const mode = opts.mode ?? 0o644;
    const dir = posix.dirname(path);
    const tmp = posix.join(dir, `.${posix.basename(path)}.phx-${randomBytes(6).toString('hex')}`);
    const attempt = () => this.withSftp((sftp) => writeAndRename(sftp, tmp, path, data, mode));
    try {
      await attempt();
    } catch (e) {
      if ((e as { code?: number }).code !== SFTP_NO_SUCH_FILE) throw this.fileError('write', path, e);
      // the directory is missing: create it like the local connection does, then retry once
      const r = await this.exec(`mkdir -p -- ${shellQuote(dir)}`);
      if (r.rc !== 0) throw this.fileError('write', path, new Error(r.stderr.trim() || `mkdir rc ${r.rc}`));
      await attempt().catch((e2: unknown) => {
        throw this.fileError('write', path, e2);
      });
    }
  }

  async getFile(path: string): Promise<Buffer | null> {
    try {
      return await this.withSftp(
        (sftp) => new Promise<Buffer>((res, rej) => sftp.readFile(path, (e, buf) => (e ? rej(e) : res(buf)))),
      );
    } catch (e) {
      if ((e as { code?: number }).code === SFTP_NO_SUCH_FILE) return null;
      throw this.fileError('read', path, e);
    }
  }

  private fileError(what: string, path: string, e: unknown): Error {
    if (e instanceof UnreachableError) return e;
    return new Error(`ssh ${this.link.label}: cannot ${what} ${path}: ${(e as Error).message}`);
  }

  /** Runs an SFTP operation, turning a lost link into UnreachableError. */
  private async withSftp<T>(op: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const sftp = await this.sftp(await this.live());
    return new Promise<T>((resolve, reject) => {
      const unwatch = this.link.whenLost((e) => reject(e));
      op(sftp).then(
        (v) => {
          unwatch();
          resolve(v);
        },
        (e: unknown) => {
          unwatch();
          reject(this.link.deadReason ? new UnreachableError(this.link.deadReason) : (e as Error));
        },
      );
    });
  }

  /** The session, opened once; a full server (MaxSessions) is asked again, as for exec channels. */
  private sftp(client: Client): Promise<SFTPWrapper> {
    if (!this.session) {
      this.session = new Promise<SFTPWrapper>((res, rej) => {
        let attempt = 0;
        const tryOpen = () =>
          client.sftp((err, sftp) => {
            if (err) {
              if (!this.link.deadReason && ++attempt < CHANNEL_RETRIES)
                return void setTimeout(tryOpen, retryDelayMs(attempt));
              this.session = undefined; // not a dead link: let a later call try again
              rej(
                this.link.deadReason
                  ? new UnreachableError(this.link.deadReason)
                  : new Error(`ssh ${this.link.label}: cannot open SFTP session: ${err.message}`),
              );
            } else {
              sftp.on('close', () => {
                this.session = undefined;
              });
              res(sftp);
            }
          });
        tryOpen();
      });
    }
    return this.session;
  }
}

/**
 * Writes `data` to a new `tmp` and renames it over `path`. Write, chmod (the
 * umask applied to open), close and rename are pipelined: the server handles
 * them in order, we wait once. On failure the temp file is removed.
 */
async function writeAndRename(sftp: SFTPWrapper, tmp: string, path: string, data: Buffer, mode: number) {
  const handle = await new Promise<Buffer>((res, rej) =>
    sftp.open(tmp, 'wx', { mode }, (e, h) => (e ? rej(e) : res(h))),
  );
  const steps: Promise<void>[] = [];
  const step = (fn: (cb: (e?: Error | null) => void) => void) =>
    steps.push(new Promise<void>((res, rej) => fn((e) => (e ? rej(e) : res()))));
  for (let off = 0; off < data.length; off += SFTP_CHUNK) {
    const len = Math.min(SFTP_CHUNK, data.length - off);
    step((cb) => sftp.write(handle, data, off, len, off, cb));
  }
  step((cb) => sftp.fchmod(handle, mode, cb));
  step((cb) => sftp.close(handle, cb));
  step((cb) => sftp.ext_openssh_rename(tmp, path, cb));
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await new Promise<void>((res) => sftp.unlink(tmp, () => res()));
    throw failed.reason;
  }
}
