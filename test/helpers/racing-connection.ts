// A connection that lets a test act as a racer on the host: `racer` runs once,
// just before the second command (a module's apply, after its facts).
import type { Connection, ExecOptions, ExecResult } from '../../src/connection/types.js';

/** A local connection that runs `racer` once, just before the command after the first (the apply). */
export class RacingConnection implements Connection {
  readonly kind = 'local' as const;
  private calls = 0;
  constructor(
    private readonly inner: Connection,
    private readonly racer: () => void,
  ) {}
  connect() {
    return this.inner.connect();
  }
  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    if (this.calls++ === 1) this.racer();
    return this.inner.exec(command, opts);
  }
  putFile(path: string, data: Buffer, opts?: { mode?: number }) {
    return this.inner.putFile(path, data, opts);
  }
  getFile(path: string) {
    return this.inner.getFile(path);
  }
  close() {
    return Promise.resolve();
  }
}
