// State several hosts of one run share: on a Proxmox VE cluster, /etc/pve is one
// filesystem for every member, so a module that changes cluster-wide files
// (pvesm: storage.cfg) must not run on two members at once (each would read the
// same old state and race to make the same change), and in check mode the second
// member must see what the first would have made. A module says which scope a host
// is in (`sharedScope` in src/module.ts); hosts with the same key take turns for
// it within a run, and share one Predictions for check mode.
import { Predictions } from './predictions.js';

export class SharedScopes {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly predicted = new Map<string, Predictions>();

  /** check-mode predictions every host of the scope reads and writes */
  predictionsOf(key: string): Predictions {
    let p = this.predicted.get(key);
    if (!p) this.predicted.set(key, (p = new Predictions()));
    return p;
  }

  /** Runs `fn` once every earlier holder of `key` is done; waiting ends with the signal (task timeout, Ctrl-C). */
  async exclusive<T>(key: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    try {
      await untilAborted(before, signal);
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function untilAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
    );
  });
}
