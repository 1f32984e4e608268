// For the bundle's code cache (scripts/code-cache.mjs): what a run loads only once it runs
// something (src/cli/commands.ts): the executor, the connections, ssh2 (which the connections
// load only when they first connect, src/connection/ssh2-module.ts), the reporters.
// Loading them evaluates their top level, so V8 has compiled that when the cache is written.
// Nothing runs and nothing is connected.
export async function loadRunCode(): Promise<void> {
  await Promise.all([
    import('../connection/index.js'),
    import('../connection/ssh2-module.js').then((m) => m.loadSsh2()),
    import('../executor/run.js'),
    import('../output/json.js'),
    import('../output/live.js'),
    import('../output/plain.js'),
    import('../output/choose.js'),
    import('../output/masked.js'),
  ]);
}
