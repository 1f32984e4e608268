// Round trips per task: phx-play -vv prints every command line it sends as
// "<host> EXEC …" under the task's banner; each is one request and its answer
// on the host's one SSH connection (a command for its remote shell, or an exec
// channel of its own). The sshd of the measured host runs at LogLevel DEBUG1,
// so the report also says how many channels sshd really opened.
import { readFileSync } from 'node:fs';

export interface TaskRoundTrips {
  task: string;
  module: string;
  /** commands sent per host for this task */
  execs: number;
}

/** EXEC lines per task (one host's run), in task order. */
export function execsPerTask(output: string, moduleOf: (task: string) => string): TaskRoundTrips[] {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const tasks: TaskRoundTrips[] = [];
  for (const line of plain.split('\n')) {
    const banner = /^TASK \[(.*)\] \*+/.exec(line);
    if (banner) {
      tasks.push({ task: banner[1], module: moduleOf(banner[1]), execs: 0 });
      continue;
    }
    if (/^<[^>]+> EXEC /.test(line) && tasks.length > 0) tasks[tasks.length - 1].execs++;
  }
  return tasks;
}

/** Channels sshd opened for commands (exec) or subsystems (sftp), from its DEBUG1 log. */
export function sshdChannelRequests(logFile: string): { exec: number; subsystem: number; sessions: number } {
  const log = readFileSync(logFile, 'utf8');
  const count = (re: RegExp) => (log.match(re) ?? []).length;
  return {
    exec: count(/request exec reply/g),
    subsystem: count(/request subsystem reply/g),
    sessions: count(/Accepted publickey/g),
  };
}

/** The sshd argv prefix that raises its log level (command-line -o wins over sshd_config). */
export const DEBUG_SSHD_PREFIX = ['/bin/sh', '-c', 'exec "$@" -o LogLevel=DEBUG1', 'sh'];
