#!/usr/bin/env node
'use strict';
/**
 * Node-RED 5 for the tests on 5 and for `npm start` on Node.js 22, installed on demand into
 * .tools/node-red-5/ from its own manifest and lockfile (scripts/node-red-5/). It is not a devDependency:
 * Node-RED 5 wants Node.js 22.9, so on Node.js 20 every `npm install` of the project warned EBADENGINE.
 *
 * The install runs `npm ci` on Node.js 22 (this one if new enough, otherwise the npm package `node`
 * through npx, as scripts/test.js runs the tests on 5) and again whenever scripts/node-red-5/ changes.
 * To move to a newer Node-RED 5: change the version in scripts/node-red-5/package.json and run
 * `npx -y -p node@22 -- npm install --package-lock-only` in that folder.
 *
 * `node scripts/node-red-5.js` installs it if needed and prints its folder; require() gives
 * { ensureNodeRed5, nodeRed5Dir, installedNodeRed5 }.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const manifestDir = path.join(__dirname, 'node-red-5');
const prefix = path.join(root, '.tools', 'node-red-5');
const stampFile = path.join(prefix, 'installed-from');

/** The folder of the node-red package once installed (it holds red.js and package.json). */
function nodeRed5Dir() {
  return path.join(prefix, 'node_modules', 'node-red');
}

/** What the install was made from: the manifest and lockfile, hashed. */
function wanted() {
  const hash = crypto.createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) hash.update(fs.readFileSync(path.join(manifestDir, file)));
  return hash.digest('hex');
}

/** Whether .tools/node-red-5 holds an install of the current manifest (the stamp is written last). */
function installedNodeRed5() {
  try {
    return fs.readFileSync(stampFile, 'utf8').trim() === wanted() && fs.existsSync(path.join(nodeRed5Dir(), 'package.json'));
  } catch {
    return false;
  }
}

function modernNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 9);
}

/** Installs Node-RED 5 unless the current install matches; returns its folder. Throws when npm fails. */
function ensureNodeRed5({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  if (installedNodeRed5()) return nodeRed5Dir();
  const win = process.platform === 'win32';
  // npm on Node 22 so that no engine check warns; npx puts node@22 first on PATH for the npm it runs.
  const [command, lead] = modernNode() ? [win ? 'npm.cmd' : 'npm', []] : [win ? 'npx.cmd' : 'npx', ['-y', '-p', 'node@22', '--', 'npm']];
  log(`node-red-5: installing Node-RED 5 into ${path.relative(process.cwd(), prefix) || prefix} (npm ci on Node.js 22)`);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(manifestDir, file), path.join(prefix, file));
  const r = spawnSync(command, [...lead, 'ci', '--no-audit', '--no-fund', '--prefix', prefix], {
    cwd: prefix,
    stdio: ['ignore', 'inherit', 'inherit'],
    shell: win,
  });
  if (r.status !== 0) throw new Error(`node-red-5: npm ci in ${prefix} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  fs.writeFileSync(stampFile, `${wanted()}\n`);
  return nodeRed5Dir();
}

module.exports = { ensureNodeRed5, nodeRed5Dir, installedNodeRed5 };

if (require.main === module) {
  try {
    process.stdout.write(`${ensureNodeRed5()}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
