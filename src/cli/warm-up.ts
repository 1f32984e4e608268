// For the bundle's code cache (scripts/code-cache.mjs): what a run loads only once it runs
// something (src/cli/commands.ts): the executor, the connections with ssh2, the reporters.
// Loading them evaluates their top level, so V8 has compiled that when the cache is written.
// Nothing runs and nothing is connected.
export async function loadRunCode(): Promise<void> {
  await Promise.all([
    import('../connection/index.js'),
    import('../executor/run.js'),
    import('../output/json.js'),
    import('../output/live.js'),
    import('../output/plain.js'),
    import('../output/choose.js'),
    import('../output/masked.js'),
  ]);
}
