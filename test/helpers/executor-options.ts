// The options a test hands runPlaybooks when it calls the executor directly:
// a plain run (no check, no diff, no tags, no become), with what the test varies.
import type { ExecutorOptions } from '../../src/executor/context.js';

export function plainExecutorOptions(overrides: Partial<ExecutorOptions> = {}): ExecutorOptions {
  return {
    check: false,
    diff: false,
    forks: 5,
    verbosity: 0,
    tags: { only: [], skip: [] },
    forceHandlers: false,
    extraVars: {},
    become: { enabled: false },
    ...overrides,
  };
}
