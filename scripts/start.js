#!/usr/bin/env node
'use strict';
/**
 * `npm start`: builds the package and runs Node-RED with it, in a user directory inside the project
 * (.userdir/), with the "Read the VIN" example deployed on the built-in simulator. Prints the editor URL.
 *
 * Node-RED 4.1 runs on the Node.js that runs this script; with Node.js 22.9 or later Node-RED 5 is
 * used instead. Options: --port <n> (default 1880, or $PORT), --reset (restore the example flow),
 * --no-build, --nr4 / --nr5 (force a version; --nr5 on an older Node.js fetches Node 22 with npx),
 * --userdir <dir> (default .userdir in the project).
 *
 * .userdir/settings.js is written only when it is missing: after that it is yours (adminAuth...) and this
 * script never touches it; the port is given on Node-RED's command line. The settings it writes leave the
 * palette manager on and carry a credentialSecret of their own (random, written to that file only).
 * Ctrl-C (SIGINT) or SIGTERM stops Node-RED with everything it started (npx and its Node 22 too).
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const port = Number(option('--port', process.env.PORT || 1880));
const userDir = path.resolve(option('--userdir', path.join(root, '.userdir')));
const exampleFile = path.join(root, 'examples', '01 Read the VIN and identify the car.json');

function modernNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 9);
}

if (!flag('--no-build')) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

fs.mkdirSync(userDir, { recursive: true });

// Node-RED loads the package straight from this folder (nodesDir), as it would from node_modules.
const settingsFile = path.join(userDir, 'settings.js');
const credentialsFile = path.join(userDir, 'flows_cred.json');
if (!fs.existsSync(settingsFile)) {
  // A key of this user directory's own, so Node-RED neither generates a "system" key (and its banner at
  // every start) nor shares one between directories. It is written to settings.js only, never printed.
  const credentialSecret = crypto.randomBytes(32).toString('hex');
  fs.writeFileSync(
    settingsFile,
    `// Created by "npm start" because it was missing. It is yours now: npm start never changes it again
// (delete it to get this one back). The port comes from npm start's --port, on Node-RED's command line.
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  // Encrypts flows_cred.json (the account's client secret). Generated for this folder: keep it with the
  // folder, as a change makes the stored credentials unreadable.
  credentialSecret: '${credentialSecret}',
  nodesDir: [${JSON.stringify(root)}],
  editorTheme: { tours: false, projects: { enabled: false } },
  telemetry: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`,
    { mode: 0o600, flag: 'wx' },
  );
  // No credentials yet, stored as Node-RED stores them under a credentialSecret (aes-256-ctr, the key the
  // SHA-256 of the secret, a random IV in hex before the base64 text): without the file Node-RED warns
  // "Encrypted credentials not found" until the first deploy.
  if (!fs.existsSync(credentialsFile)) {
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(credentialSecret).digest(), iv);
    const text = iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64');
    fs.writeFileSync(credentialsFile, JSON.stringify({ $: text }), { mode: 0o600, flag: 'wx' });
  }
} else if (/^\s*externalModules: \{ palette: \{ allowInstall: false \} \},$/m.test(fs.readFileSync(settingsFile, 'utf8'))) {
  // Written by an earlier npm start; the file is the user's, so only say how to turn the palette manager on.
  process.stdout.write(
    `\nNote: ${path.relative(process.cwd(), settingsFile) || settingsFile} turns the palette manager off (externalModules: { palette: { allowInstall: false } }).\n` +
      '  Remove that line to install other nodes (Menu > Manage palette), or delete the file to get new settings.\n',
  );
}

// The example as a deployed flow, on the tab it carries (named after the example), as the Import menu would.
const flowsFile = path.join(userDir, 'flows.json');
if (flag('--reset') || !fs.existsSync(flowsFile)) {
  const nodes = JSON.parse(fs.readFileSync(exampleFile, 'utf8'));
  if (!nodes.some((n) => n.type === 'tab')) throw new Error(`${exampleFile} has no tab of its own`);
  fs.writeFileSync(flowsFile, JSON.stringify(nodes, null, 2));
}

const useNr5 = flag('--nr5') || (!flag('--nr4') && modernNode());
// Node-RED 5 is not a devDependency (it wants Node.js 22.9): scripts/node-red-5.js installs it on first use.
const redJs = path.join(useNr5 ? require('./node-red-5').ensureNodeRed5() : path.join(root, 'node_modules', 'node-red'), 'red.js');
const [command, lead] =
  useNr5 && !modernNode() ? [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['-y', 'node@22']] : [process.execPath, []];
const version = require(path.join(path.dirname(redJs), 'package.json')).version;

process.stdout.write(`\nStarting Node-RED ${version} with @obdflow/node-red-openobd and the built-in openOBD simulator\n`);
process.stdout.write(`  user directory: ${path.relative(process.cwd(), userDir) || userDir}\n`);
process.stdout.write(`  editor:         http://127.0.0.1:${port}/   (open it, then click the Inject button of "read VIN")\n\n`);

// Node-RED runs in a process group of its own, so a signal reaches it and whatever sits in between (npx,
// which starts Node 22 as a child of its own) and nothing is left holding the port.
const child = spawn(command, [...lead, redJs, '--userDir', userDir, '--settings', settingsFile, '--port', String(port)], {
  stdio: 'inherit',
  cwd: root,
  detached: process.platform !== 'win32',
});
const stopGroup = (signal) => {
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopGroup(signal === 'SIGHUP' ? 'SIGTERM' : signal));
process.on('exit', () => stopGroup('SIGTERM'));
child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
