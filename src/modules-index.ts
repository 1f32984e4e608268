// The built-in modules, listed by hand: every file in modules/ default-exports
// one defineModule(). A static list (not a readdir of dist/modules) so that the
// CLI can be bundled; test/registry.test.ts fails when a file of modules/ is
// missing here.
import type { ModuleDefinition } from './module.js';
import addHostModule from '../modules/add_host.js';
import aptModule from '../modules/apt.js';
import assertModule from '../modules/assert.js';
import authorizedKeyModule from '../modules/authorized_key.js';
import blockinfileModule from '../modules/blockinfile.js';
import certHookModule from '../modules/cert_hook.js';
import commandModule from '../modules/command.js';
import copyModule from '../modules/copy.js';
import debugModule from '../modules/debug.js';
import dockerVolumeModule from '../modules/docker_volume.js';
import failModule from '../modules/fail.js';
import fileModule from '../modules/file.js';
import filePermModule from '../modules/file_perm.js';
import findModule from '../modules/find.js';
import getentModule from '../modules/getent.js';
import getUrlModule from '../modules/get_url.js';
import groupModule from '../modules/group.js';
import groupByModule from '../modules/group_by.js';
import includeVarsModule from '../modules/include_vars.js';
import lineinfileModule from '../modules/lineinfile.js';
import nfsWaitModule from '../modules/nfs_wait.js';
import pamLimitsModule from '../modules/pam_limits.js';
import packageModule from '../modules/package.js';
import pauseModule from '../modules/pause.js';
import pctModule from '../modules/pct.js';
import pingModule from '../modules/ping.js';
import pveFirewallModule from '../modules/pve_firewall.js';
import pvesmModule from '../modules/pvesm.js';
import replaceModule from '../modules/replace.js';
import serviceModule from '../modules/service.js';
import setFactModule from '../modules/set_fact.js';
import setupModule from '../modules/setup.js';
import shellModule from '../modules/shell.js';
import statModule from '../modules/stat.js';
import systemdServiceModule from '../modules/systemd_service.js';
import tempfileModule from '../modules/tempfile.js';
import templateModule from '../modules/template.js';
import userModule from '../modules/user.js';
import waitForModule from '../modules/wait_for.js';
import zfsDatasetModule from '../modules/zfs_dataset.js';

export const BUILTIN_MODULES: readonly ModuleDefinition[] = [
  addHostModule,
  aptModule,
  assertModule,
  authorizedKeyModule,
  blockinfileModule,
  certHookModule,
  commandModule,
  copyModule,
  debugModule,
  dockerVolumeModule,
  failModule,
  fileModule,
  filePermModule,
  findModule,
  getentModule,
  getUrlModule,
  groupModule,
  groupByModule,
  includeVarsModule,
  lineinfileModule,
  nfsWaitModule,
  pamLimitsModule,
  packageModule,
  pauseModule,
  pctModule,
  pingModule,
  pveFirewallModule,
  pvesmModule,
  replaceModule,
  serviceModule,
  setFactModule,
  setupModule,
  shellModule,
  statModule,
  systemdServiceModule,
  tempfileModule,
  templateModule,
  userModule,
  waitForModule,
  zfsDatasetModule,
];
