// A value built on first use and kept. For what only some runs need and is costly to
// build at import: zod schemas above all (src/module.ts ModuleSpec).
export function once<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}
