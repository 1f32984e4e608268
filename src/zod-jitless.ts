// zod's object schemas compile a parser of their own with new Function at their first parse. A run
// parses each schema a handful of times: compiling costs more than it saves (about 10 ms of a
// 20-task playbook's loading, measured), and compiled code is not in the bundle's code cache.
// Set before any schema is made: a schema reads the setting when it is constructed.
import * as z from 'zod';

z.config({ jitless: true });
