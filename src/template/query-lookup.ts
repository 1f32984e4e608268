// q() / query(): a lookup that keeps its list (Ansible's Templar._query_lookup, wantlist=True).
// Its result is marked unsafe as every lookup's is (wrap_var): data, never read as a template.
import { markUnsafe } from '../unsafe.js';
import { firstFoundLookup, lookupPlugin, type HelperEnv } from './helpers.js';
import { EvalFailure, getMember, isMapping, mappingKeys } from './values.js';

export function queryPlugin(kind: unknown, terms: unknown[], env: HelperEnv): unknown[] {
  // lookup/dict.py LookupModule.run: each mapping term becomes its {key, value} items, in order
  if (kind === 'dict') {
    return markUnsafe(
      terms.flatMap((term) => {
        if (!isMapping(term)) throw new EvalFailure('lookup dict: with_dict expects a dict');
        return mappingKeys(term).map((key) => ({ key, value: getMember(term, key) }));
      }),
    );
  }
  if (kind === 'first_found') return firstFoundLookup(terms, env);
  // the text lookups (env, file, template) give one text per term
  return terms.map((term) => lookupPlugin(kind, [term], env));
}
