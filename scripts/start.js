#!/usr/bin/env node
'use strict';
/**
 * `npm start`: builds the package and runs Node-RED with it, in a user directory inside the project
 * (.userdir/), with the "Read the VIN" example deployed on the built-in simulator. Prints the editor URL.
 *
 * Node-RED 4.1 runs on the Node.js that runs this script; with Node.js 22.9 or later Node-RED 5 is
 * used instead. Options: --port <n> (default 1880, or $PORT), --reset (restore the example flow),
 * --no-build, --nr4 / --nr5 (force a version; --nr5 on an older Node.js fetches Node 22 with npx).
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const port = Number(option('--port', process.env.PORT || 1880));
const userDir = path.join(root, '.userdir');
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
fs.writeFileSync(
  settingsFile,
  `// Written by scripts/start.js for local development; safe to delete.
module.exports = {
  uiPort: ${port},
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  nodesDir: [${JSON.stringify(root)}],
  editorTheme: { tours: false, projects: { enabled: false } },
  telemetry: { enabled: false },
  externalModules: { palette: { allowInstall: false } },
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`,
);

// The example as a deployed flow: on its own tab, every non-config node placed on it.
const flowsFile = path.join(userDir, 'flows.json');
if (flag('--reset') || !fs.existsSync(flowsFile)) {
  const nodes = JSON.parse(fs.readFileSync(exampleFile, 'utf8'));
  const tab = {
    id: '0b0d00000000f001',
    type: 'tab',
    label: 'Read the VIN',
    disabled: false,
    info: 'The "Read the VIN and identify the car" example on the built-in openOBD simulator. Click the Inject button.',
  };
  const isConfig = (n) => n.type === 'openobd-account' || n.type === 'openobd-ecu';
  fs.writeFileSync(flowsFile, JSON.stringify([tab, ...nodes.map((n) => (isConfig(n) ? n : { ...n, z: tab.id }))], null, 2));
}

const useNr5 = flag('--nr5') || (!flag('--nr4') && modernNode());
const redJs = path.join(root, 'node_modules', useNr5 ? 'node-red-5' : 'node-red', 'red.js');
const [command, lead] =
  useNr5 && !modernNode() ? [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['-y', 'node@22']] : [process.execPath, []];
const version = require(path.join(path.dirname(redJs), 'package.json')).version;

process.stdout.write(`\nStarting Node-RED ${version} with @obdflow/node-red-openobd and the built-in openOBD simulator\n`);
process.stdout.write(`  user directory: ${path.relative(process.cwd(), userDir) || userDir}\n`);
process.stdout.write(`  editor:         http://127.0.0.1:${port}/   (open it, then click the Inject button of "read VIN")\n\n`);

const child = spawn(command, [...lead, redJs, '--userDir', userDir, '--settings', settingsFile], { stdio: 'inherit', cwd: root });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
