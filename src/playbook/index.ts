// The playbook loader's public face.
export { loadPlaybook, loadTaskFile, type LoadPlaybookOptions } from './load.js';
export { playbookJsonSchema } from './schema.js';
export type * from './types.js';
