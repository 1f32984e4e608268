// Gathered facts on a host, as Ansible keeps them: each ansible_* name as a
// variable and all of them, without the prefix, under `ansible_facts`; a later
// setup (another subset, a filter) adds to what an earlier one gathered.
// Marked unsafe: what a host prints is data, never a template.
import { markUnsafe } from '../unsafe.js';

export function mergeGatheredFacts(gathered: Record<string, unknown>, facts: Record<string, unknown>): void {
  const data = markUnsafe(facts);
  const previous = gathered.ansible_facts;
  const clean: Record<string, unknown> =
    previous && typeof previous === 'object' ? { ...(previous as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(data)) {
    Object.defineProperty(gathered, k, { value: v, enumerable: true, writable: true, configurable: true });
    // defined, not assigned: a host-chosen name (an interface called __proto__) stays a key
    Object.defineProperty(clean, k.startsWith('ansible_') ? k.slice('ansible_'.length) : k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  gathered.ansible_facts = markUnsafe(clean);
}
