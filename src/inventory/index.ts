// Ansible-compatible inventories: load -i sources, select hosts by pattern,
// merge a host's inventory variables. See the files below for each idea.
export type { Inventory, InventoryGroup, InventoryHost } from './model.js';
export { loadInventory, type LoadInventoryOptions } from './load.js';
export { selectHosts, splitPattern, type SelectHostsOptions } from './patterns.js';
export {
  hostVariables,
  checkHostVariables,
  isImplicitLocalhost,
  sortedHostGroups,
  LOCALHOST_NAMES,
  type HostVariablesOptions,
} from './variables.js';
export { checkConnectionVar, normalizeConnection } from './connection-vars.js';
export { expandRanges } from './ranges.js';
export { iniValue } from './python-literal.js';
