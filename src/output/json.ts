// --json: one versioned JSON object per event on stdout, for machines.
import type { Reporter, RunEvent } from '../events.js';
import { jsonTerminalSafe } from './escape.js';

export const JSON_EVENT_VERSION = 1;

export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}

  emit(e: RunEvent): void {
    // commands sent (-vv) may carry secrets in arguments; they stay in human output only
    if (e.type === 'command') return;
    // stdout may be a terminal: no raw C1 or bidi characters either (JSON.stringify leaves those)
    this.out.write(
      jsonTerminalSafe(JSON.stringify({ v: JSON_EVENT_VERSION, time: new Date().toISOString(), ...e })) + '\n',
    );
  }

  async close(): Promise<void> {}
}

/** Sends every event to several reporters (JSON on stdout + human text on stderr). */
export class TeeReporter implements Reporter {
  constructor(private readonly reporters: Reporter[]) {}
  emit(e: RunEvent): void {
    for (const r of this.reporters) r.emit(e);
  }
  async close(): Promise<void> {
    await Promise.all(this.reporters.map((r) => r.close()));
  }
}
