// ansible_connection: ssh — one ssh2 connection per host, opened at the first
// connect() and reused for the whole run. A command runs in one of the host's
// remote shells when one can take it, else on an exec channel of its own
// (several may run at once); files go over one lazily opened SFTP session. A
// connection that fails or dies stays dead: every later call throws
// UnreachableError. The parts, by concern:
//   ssh-transport.ts   connecting (ProxyJump, host keys via ssh-host-key.ts, auth), the link's life
//   ssh-channels.ts    session slots against sshd's MaxSessions, retries of refused channels
//   ssh-exec.ts        one command on an exec channel; how any exec ends (settleOnce)
//   ssh-shell-pool.ts  the remote shells (remote-shell.ts) and running commands in them
//   ssh-sftp.ts        putFile / getFile
//   ssh2-internals.ts  the one reach into ssh2's private fields (SIGKILL to a command)
import type { Client } from 'ssh2';
import { sleep } from '../sleep.js';
import { ChannelRefused, ChannelSlots, CHANNEL_RETRIES, retryDelayMs } from './ssh-channels.js';
import { execOnChannel } from './ssh-exec.js';
import { SftpFiles } from './ssh-sftp.js';
import { ShellPool } from './ssh-shell-pool.js';
import { SshTransport, type SshSettings } from './ssh-transport.js';
import type { Connection, ExecOptions, ExecResult } from './types.js';

export type { SshEndpoint, SshSettings } from './ssh-transport.js';

export class SshConnection implements Connection {
  readonly kind = 'ssh' as const;
  private readonly transport: SshTransport;
  private readonly slots: ChannelSlots;
  private readonly shells: ShellPool;
  private readonly files: SftpFiles;

  constructor(s: SshSettings) {
    this.transport = new SshTransport(s);
    this.slots = new ChannelSlots(s.maxSessions);
    this.shells = new ShellPool(this.transport, this.slots, s.connectTimeoutMs);
    this.files = new SftpFiles(
      this.transport,
      () => this.transport.live(),
      (command) => this.exec(command),
    );
  }

  get label(): string {
    return this.transport.label;
  }

  connect(): Promise<void> {
    return this.transport.connect();
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.transport.live();
    const shell = this.shells.fits(command, opts) ? await this.shells.reserve(client) : undefined;
    if (shell) return this.shells.run(shell, command, opts, () => this.exec(command, opts));
    return this.execOnFreeChannel(client, command, opts);
  }

  /**
   * sshd frees a session slot a moment after the channel closes, so a full
   * server may refuse a channel now and accept it shortly after.
   */
  private async execOnFreeChannel(client: Client, command: string, opts: ExecOptions): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      const release = await this.slots.acquire();
      try {
        return await execOnChannel(this.transport, client, command, opts);
      } catch (e) {
        if (!(e instanceof ChannelRefused) || attempt >= CHANNEL_RETRIES)
          throw e instanceof ChannelRefused ? new Error(e.message) : e;
      } finally {
        release();
      }
      await sleep(retryDelayMs(attempt));
    }
  }

  putFile(path: string, data: Buffer, opts: { mode?: number } = {}): Promise<void> {
    return this.files.putFile(path, data, opts);
  }

  getFile(path: string): Promise<Buffer | null> {
    return this.files.getFile(path);
  }

  async close(): Promise<void> {
    await this.shells.settleKills();
    return this.transport.close();
  }
}
