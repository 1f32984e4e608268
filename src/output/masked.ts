// Vault secrets never reach a reporter: every event is masked first (src/vault/secrecy.ts).
import type { Reporter, RunEvent } from '../events.js';
import { maskDeep } from '../vault/secrecy.js';

export class MaskingReporter implements Reporter {
  constructor(private readonly inner: Reporter) {}

  emit(e: RunEvent): void {
    this.inner.emit(maskDeep(e));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
