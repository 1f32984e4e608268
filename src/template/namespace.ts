// Jinja's namespace(): the one object a template may write into (`{% set ns.found = true %}`),
// so a value set inside a loop is seen after it. A table without Object.prototype behind it,
// remembered here so that `{% set x.y = … %}` can never write into playbook data.
import { checkKeyAllowed, table } from './values.js';

const namespaces = new WeakSet<object>();

export function makeNamespace(initial: Record<string, unknown>): Record<string, unknown> {
  const ns = table<unknown>({});
  for (const [k, v] of Object.entries(initial)) {
    checkKeyAllowed(k);
    ns[k] = v;
  }
  namespaces.add(ns);
  return ns;
}

export function isNamespace(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && namespaces.has(v);
}
