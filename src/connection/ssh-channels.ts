// Session slots of one SSH connection. sshd refuses channels beyond its
// MaxSessions (OpenSSH default 10), and frees a slot only a moment after a
// channel closes: exec channels and shells take a slot here first, wait their
// turn when all are taken, and a refused channel is tried again shortly after.

/** The server refused to open a channel (MaxSessions reached): worth a retry. */
export class ChannelRefused extends Error {}

/** how often a refused channel is tried again before its command fails */
export const CHANNEL_RETRIES = 50;

/** the pause before the next try: short at first, at most 100 ms */
export function retryDelayMs(attempt: number): number {
  return Math.min(10 * attempt, 100);
}

/** Counts the channels open on one connection against the server's MaxSessions. */
export class ChannelSlots {
  // One session slot stays free for the SFTP channel.
  private readonly max: number;
  private open = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(maxSessions: number | undefined) {
    this.max = Math.max(1, (maxSessions ?? 10) - 1);
  }

  /** every slot is taken: a new channel would have to wait */
  get full(): boolean {
    return this.open >= this.max;
  }

  /** Waits for a free slot and takes it; the returned function gives it back (once). */
  async acquire(): Promise<() => void> {
    while (this.full) await new Promise<void>((res) => this.waiters.push(res));
    return this.take();
  }

  /** Takes a slot without waiting (the caller has checked `full`); the returned function gives it back. */
  take(): () => void {
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      this.waiters.shift()?.();
    };
  }
}
