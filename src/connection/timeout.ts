// Task timeouts: the host kills the command (`timeout -s KILL`, see
// buildCommand); the connection's own timer is a backstop a little later.

/** how long after the limit the connection stops waiting for the host's kill */
export const TIMEOUT_GRACE_MS = 1000;

/** A SIGKILL status after the limit passed: the task timeout ended the command. */
export function isTimeout(timeoutMs: number | undefined, startedAt: number, rc: number): boolean {
  return timeoutMs !== undefined && timeoutMs > 0 && rc === 128 + 9 && Date.now() - startedAt >= timeoutMs;
}

export function withTimeoutNote(stderr: string, timeoutMs: number): string {
  return `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}phx-play: command timed out after ${timeoutMs / 1000} s\n`;
}
