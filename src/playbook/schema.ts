// JSON Schema (draft-07, what yaml-language-server reads) for playbook files,
// generated from the same zod schemas the loader validates with: keyword
// schemas from keywords.ts, argument schemas from each module.
import * as z from 'zod';
import type { ModuleRegistry } from '../registry.js';
import { knownKeys } from './zod-introspect.js';
import {
  BLOCK_KEYS,
  IMPORT_PLAYBOOK_KEYS,
  KEYWORDS,
  META_ACTIONS,
  PLAY_KEYS,
  SPECIAL_ACTIONS,
  TASK_KEYS,
  APPLY_KEYS,
  type KeywordName,
} from './keywords.js';

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/definitions/${name}` });
const TEMPLATE: Json = { type: 'string', pattern: '\\{\\{', description: 'a template, rendered per host' };

function toJson(schema: z.ZodType, defs: Json, prefix: string): Json {
  let out: Json;
  try {
    out = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
  delete out.$schema;
  const inner = out.definitions as Json | undefined;
  if (!inner) return out;
  // nested definitions move to the top level under a private prefix
  delete out.definitions;
  const rename = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rename);
    if (v && typeof v === 'object') {
      const o: Json = {};
      for (const [k, x] of Object.entries(v)) {
        o[k] =
          k === '$ref' && typeof x === 'string' ? x.replace('#/definitions/', `#/definitions/${prefix}.`) : rename(x);
      }
      return o;
    }
    return v;
  };
  for (const [k, v] of Object.entries(inner)) defs[`${prefix}.${k}`] = rename(v);
  return rename(out) as Json;
}

/** Where a module wants a number, list, ... a template string is accepted too (rendered per host). */
function allowTemplates(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const s = { ...(schema as Json) };
  if (s.properties && typeof s.properties === 'object') {
    s.properties = Object.fromEntries(Object.entries(s.properties as Json).map(([k, v]) => [k, orTemplate(v)]));
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    s.additionalProperties = orTemplate(s.additionalProperties);
  if (s.items && typeof s.items === 'object') s.items = orTemplate(s.items);
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const)
    if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map(allowTemplates);
  return s;
}

function orTemplate(schema: unknown): unknown {
  const s = allowTemplates(schema) as Json;
  const takesAnyString = s && (s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string')));
  if (takesAnyString && !s.enum && !s.pattern && !s.format) return s;
  if (s && Object.keys(s).length === 0) return s; // already anything
  const { description, default: dflt, ...rest } = s ?? {};
  return {
    ...(description ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [rest, TEMPLATE],
  };
}

/** `import_tasks` and its Ansible spelling `ansible.builtin.import_tasks`. */
function withAliases(action: string, schema: Json): Json {
  return Object.fromEntries(
    Object.entries(SPECIAL_ACTIONS)
      .filter(([, a]) => a === action)
      .map(([name]) => [name, schema]),
  );
}

function keywordProperties(keys: readonly string[], defs: Json): Json {
  const props: Json = {};
  for (const k of keys) {
    if (!(k in KEYWORDS)) continue;
    const spec = KEYWORDS[k as KeywordName];
    props[k] = { ...toJson(spec.schema, defs, `kw.${k}`), description: spec.description };
  }
  return props;
}

export function playbookJsonSchema(registry: ModuleRegistry): Json {
  const defs: Json = {};
  const tasksList = { type: 'array', items: { anyOf: [ref('task'), ref('block')] } };

  const moduleProps: Json = {};
  for (const def of registry.all()) {
    const args = allowTemplates(toJson(def.args, defs, `module.${def.name}`)) as Json;
    // unknown argument names are errors for phx-play, so for the editor too
    if (args.type === 'object' && args.additionalProperties === undefined && knownKeys(def.args))
      args.additionalProperties = false;
    defs[`module.${def.name}`] = {
      description: def.description,
      anyOf: def.freeForm
        ? [{ type: 'string', description: `the '${def.freeForm}' argument` }, args, { type: 'null' }]
        : [args, { type: 'string', description: 'key=value arguments' }, { type: 'null' }],
    };
    for (const n of [def.name, ...(def.aliases ?? [])])
      moduleProps[n] = { ...ref(`module.${def.name}`), description: def.description };
  }

  defs.loop_control = {
    type: 'object',
    properties: {
      loop_var: { type: 'string', description: 'name of the item variable (default item)' },
      index_var: { type: 'string', description: 'variable holding the 0-based index' },
      label: { type: 'string', description: 'what the output shows for each item' },
      pause: { type: 'number', minimum: 0, description: 'seconds between items' },
      extended: { type: 'boolean', description: 'ansible_loop also has allitems, previtem, nextitem' },
      extended_allitems: { type: 'boolean', description: 'with extended: false leaves out ansible_loop.allitems' },
    },
    additionalProperties: false,
  } satisfies Json;

  const taskFile = (extra: Json = {}) => ({
    anyOf: [
      { type: 'string', description: 'task file, relative to this file' },
      {
        type: 'object',
        properties: { file: { type: 'string' }, ...extra },
        required: ['file'],
        additionalProperties: false,
      },
    ],
  });
  const roleOptions = (extra: Json = {}) => ({
    type: 'object',
    properties: {
      name: { type: 'string', description: 'the role: a name searched in the roles path, or a path' },
      tasks_from: { type: 'string' },
      vars_from: { type: 'string' },
      defaults_from: { type: 'string' },
      handlers_from: { type: 'string' },
      allow_duplicates: { type: 'boolean' },
      rolespec_validate: { type: 'boolean' },
      ...extra,
    },
    required: ['name'],
    additionalProperties: false,
  });
  defs.apply = { type: 'object', properties: keywordProperties(APPLY_KEYS, defs), additionalProperties: false };
  defs.task = {
    type: 'object',
    description: 'a task: exactly one module plus keywords',
    properties: {
      ...keywordProperties(TASK_KEYS, defs),
      loop_control: ref('loop_control'),
      args: { type: 'object', description: 'module arguments (merged with the inline ones)' },
      ...withAliases('import_tasks', {
        ...taskFile(),
        description: 'static: the file is expanded when the playbook loads',
      }),
      ...withAliases('include_tasks', {
        ...taskFile({ apply: ref('apply') }),
        description: 'dynamic: loaded when reached; loopable',
      }),
      ...withAliases('import_role', {
        ...roleOptions(),
        description: 'static: the role is loaded when the playbook loads',
      }),
      ...withAliases('include_role', {
        ...roleOptions({ apply: ref('apply'), public: { type: 'boolean' } }),
        description: 'dynamic: the role is loaded when reached; loopable',
      }),
      ...withAliases('meta', { enum: [...META_ACTIONS], description: 'engine actions' }),
      ...Object.fromEntries(
        (['action', 'local_action'] as const).map((k) => [
          k,
          {
            anyOf: [
              { type: 'string', description: 'the module, then its arguments: copy src=a dest=b' },
              { type: 'object', properties: { module: { type: 'string' } }, required: ['module'] },
            ],
            description:
              k === 'action' ? 'old style: the module in the value' : 'old style, run on the controller (localhost)',
          },
        ]),
      ),
      ...moduleProps,
    },
    additionalProperties: false,
  };
  defs.block = {
    type: 'object',
    description: 'a block of tasks, with rescue and always',
    properties: {
      ...keywordProperties(BLOCK_KEYS, defs),
      block: ref('tasks'),
      rescue: ref('tasks'),
      always: ref('tasks'),
    },
    required: ['block'],
    additionalProperties: false,
  };
  defs.tasks = tasksList;
  defs.play = {
    type: 'object',
    description: 'a play: hosts and the tasks to run on them',
    properties: {
      ...keywordProperties(PLAY_KEYS, defs),
      pre_tasks: ref('tasks'),
      roles: {
        type: 'array',
        description: 'roles run after pre_tasks, before tasks (dependencies first)',
        items: {
          anyOf: [
            { type: 'string' },
            {
              type: 'object',
              properties: { role: { type: 'string' }, name: { type: 'string' } },
              description: 'role (or name), keywords; any other key is a role parameter',
            },
          ],
        },
      },
      tasks: ref('tasks'),
      post_tasks: ref('tasks'),
      handlers: ref('tasks'),
      serial: {
        anyOf: [
          { type: 'integer', minimum: 1 },
          { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
          TEMPLATE,
          { type: 'array', items: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string' }] } },
        ],
        description: KEYWORDS.serial.description,
      },
    },
    required: ['hosts'],
    additionalProperties: false,
  };
  defs.import_playbook = {
    type: 'object',
    properties: {
      ...keywordProperties(IMPORT_PLAYBOOK_KEYS, defs),
      import_playbook: { type: 'string', description: 'playbook file, relative to this one' },
      'ansible.builtin.import_playbook': { type: 'string', description: 'playbook file, relative to this one' },
    },
    additionalProperties: false,
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'phx-play playbook',
    description: 'A list of plays (or import_playbook entries). Generated by `phx-play schema`.',
    type: 'array',
    items: { anyOf: [ref('play'), ref('import_playbook')] },
    definitions: defs,
  };
}
