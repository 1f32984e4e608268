// Loads the CLI bundle (dist/bundle/cli.cjs, made by scripts/bundle.mjs) with V8's code cache
// beside it (cli.cjs.codecache). Node 20 has no compile cache for ES modules, and parsing and
// compiling the ~2 MB bundle was a fifth of a short run's CPU: the bundle is one CommonJS-shaped
// script, compiled here with vm.Script, which takes V8's cached code.
//
// The cache is used only for the exact bundle it was made from: V8's own check compares the
// source's length, not its text, so the cache file starts with the SHA-256 of the bundle and
// a cache for other text is not handed to V8 at all. V8 refuses, by itself, a cache made by
// another V8 version or other V8 flags. Without a usable cache the bundle is compiled as usual.
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

export const BUNDLE = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));

const DIGEST_BYTES = 32;

/** The code cache file of a bundle. */
export const codeCacheFile = (bundle) => `${bundle}.codecache`;

/**
 * Compiles and runs the bundle; returns its exports (`main`), whether a code cache was given
 * to V8 and taken, and `codeCache()`: the cache file's content for what has been compiled so far.
 * Throws ENOENT when the bundle is missing.
 */
export function loadBundle(bundle = BUNDLE) {
  const bytes = readFileSync(bundle);
  const digest = createHash('sha256').update(bytes).digest();
  // scripts/bundle.mjs writes ASCII: read as latin1, which is the same text, and fast
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cachedData = readCodeCache(codeCacheFile(bundle), digest);
  // one line with the bundle's first: its line numbers (and source map) stay right
  const wrapped = `(function (exports, require, module, __filename, __dirname, __phxBundleUrl) {${source}\n})`;
  const script = new Script(wrapped, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    createRequire(bundle),
    module,
    bundle,
    dirname(bundle),
    pathToFileURL(bundle).href,
  );
  return {
    cli: module.exports,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    codeCache: () => Buffer.concat([digest, script.createCachedData()]),
  };
}

/** The V8 part of the cache file when the file was made for this bundle text; else undefined. */
function readCodeCache(file, digest) {
  let data;
  try {
    data = readFileSync(file);
  } catch {
    return undefined; // no cache (not built, or not readable): compile as usual
  }
  if (data.length <= DIGEST_BYTES || !data.subarray(0, DIGEST_BYTES).equals(digest)) return undefined;
  return data.subarray(DIGEST_BYTES);
}
