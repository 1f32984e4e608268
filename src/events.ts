// What a run reports, in order. Reporters (live view, plain lines, JSON lines)
// turn these into output; nothing else writes run results to the terminal.
import type { SourceLoc } from './errors.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface RecapCounters {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | { type: 'playbook_start'; playbook: string; check: boolean }
  | { type: 'play_start'; play: string; hosts: string[]; loc: SourceLoc }
  | { type: 'no_hosts'; play: string; pattern: string }
  | { type: 'task_start'; task: string; module: string; hosts: string[]; loc: SourceLoc; handler: boolean }
  | {
      type: 'host_result';
      task: string;
      host: string;
      status: HostStatus;
      /** failed but ignore_errors / unreachable but ignore_unreachable */
      ignored: boolean;
      /** registered result, already masked when no_log */
      result: Record<string, unknown>;
      /** loop item label when this is one item of a loop */
      item?: string;
      durationMs: number;
      delegatedTo?: string;
    }
  | { type: 'warning'; message: string; /** Ansible's [DEPRECATION WARNING] */ deprecation?: boolean }
  | { type: 'command'; host: string; command: string }
  | { type: 'debug'; host: string; message: string }
  | { type: 'recap'; hosts: Record<string, RecapCounters>; durationMs: number };

export interface Reporter {
  emit(event: RunEvent): void;
  /** flush and stop any live rendering */
  close(): Promise<void>;
}

export function emptyCounters(): RecapCounters {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}
