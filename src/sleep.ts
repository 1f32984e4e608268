// The one pause helper. An abort ends the wait early and resolves (never
// rejects): the caller looks at its signal afterwards and decides what the
// abort means, so a pause between retries never turns into a stray rejection.

/** Waits `ms` milliseconds, or until `signal` aborts (at once if it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort); // a long-lived signal collects no listeners
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
