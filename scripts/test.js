#!/usr/bin/env node
'use strict';
/**
 * `npm test`: builds, then runs every suite against the compiled output.
 *   0. lint: eslint (typescript-eslint) and the prettier format check (npm run format fixes both);
 *   1. unit (codecs, simulated vehicle) and integration (client library <-> simulator over real gRPC);
 *   2. the Node-RED node tests (test-helper, examples) on Node-RED 4.1 with the Node.js running this
 *      script (20 or later), then on Node-RED 5.x, which needs Node.js 22.9 or later: the current one if
 *      it is new enough, otherwise Node 22 from the npm package `node` (npx -y node@22). Node-RED 5 is
 *      not a devDependency: scripts/node-red-5.js installs it into .tools/node-red-5 first;
 *   3. reliability (faults, fuzz, deploys, secret scans; Node-RED 4.1), then the package as users install
 *      it (npm pack, npm install into a Node-RED user directory; the packed file list; npm publish
 *      --dry-run; the scorecard's offline checks) and npm start's signal handling, then the Flow Library
 *      scorecard as `npm run validate -- --offline` prints it;
 *   4. the static editor checks, then the browser tests (Chromium) on Node-RED 4.1 and 5.
 * Options: --skip-build, --only <suite>[,<suite>] with suites unit, integration, nodes, nodes5,
 * reliability, package, scorecard, editor, browser, lint.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
const want = (suite) => !only || only.includes(suite);
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const mochaOptions = ['--no-config', '--reporter', path.join(root, 'scripts', 'mocha-reporter.js')];
// A browser test drives Chromium and a whole Node-RED: under a loaded CI machine one of them can miss a deadline
// once. It gets one more try; the summary still lists it as retried, with the first failure's message.
const browserRetries = ['--retries', '1'];
const results = [];
// What each mocha suite records of its failures and retries (scripts/mocha-reporter.js), repeated in the summary
// so that the end of a long CI log says which test went wrong.
const record = path.join(require('node:os').tmpdir(), `openobd-test-record-${process.pid}.txt`);

function run(label, command, commandArgs, env = {}) {
  process.stdout.write(`\n=== ${label} ===\n`);
  const started = Date.now();
  fs.rmSync(record, { force: true });
  const r = spawnSync(command, commandArgs, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, OPENOBD_TEST_RECORD: record, ...env },
  });
  const ok = r.status === 0;
  const notes = fs.existsSync(record) ? fs.readFileSync(record, 'utf8').trim().split('\n') : [];
  fs.rmSync(record, { force: true });
  results.push({ label, ok, notes, seconds: ((Date.now() - started) / 1000).toFixed(1) });
  return ok;
}

function nodeMajorMinor(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major * 1000 + minor;
}

/** A Node.js that Node-RED 5 accepts (>= 22.9): [command, leading args]. */
function node22() {
  if (nodeMajorMinor(process.version) >= 22009) return [process.execPath, []];
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  return [npx, ['-y', 'node@22']];
}

const suites = (...names) => names.map((n) => `dist/test/${n}/**/*.test.js`);

if (want('lint')) {
  const bin = (name, file) => path.join(root, 'node_modules', name, 'bin', file);
  run('lint (eslint, typescript-eslint)', process.execPath, [bin('eslint', 'eslint.js'), '--max-warnings', '0', '.']);
  run('format check (prettier)', process.execPath, [bin('prettier', 'prettier.cjs'), '--check', '.']);
}

if (!args.includes('--skip-build')) {
  if (!run('build', process.execPath, [path.join(root, 'scripts', 'build.js')])) process.exit(1);
}

if (want('unit'))
  run('unit tests (codecs, simulated vehicle)', process.execPath, [mocha, ...mochaOptions, '--timeout', '20000', ...suites('unit')]);
if (want('integration'))
  run('integration tests (client library <-> simulator over gRPC)', process.execPath, [
    mocha,
    '--no-config',
    '--timeout',
    '60000',
    ...suites('integration'),
  ]);
if (want('nodes'))
  run(
    `Node-RED 4.1 node tests (Node ${process.version})`,
    process.execPath,
    [mocha, ...mochaOptions, '--timeout', '60000', ...suites('nodes')],
    { NR_PKG: 'node-red' },
  );
// Node-RED 5 for the suites that run on it (npm start --nr5 in the package suite too).
if (['nodes5', 'package', 'editor', 'browser'].some(want)) {
  run('Node-RED 5 (installed on demand into .tools/node-red-5)', process.execPath, [path.join(root, 'scripts', 'node-red-5.js')]);
}
if (want('nodes5')) {
  const [cmd, lead] = node22();
  run('Node-RED 5 node tests (Node 22)', cmd, [...lead, mocha, ...mochaOptions, '--timeout', '60000', ...suites('nodes')], {
    NR_PKG: 'node-red-5',
  });
}
if (want('package')) {
  run(
    'package tests (npm pack and install into a Node-RED user directory; packed files; publish --dry-run; validate; npm start)',
    process.execPath,
    [mocha, ...mochaOptions, '--timeout', '300000', ...suites('package')],
    {
      NR_PKG: 'node-red',
    },
  );
}
if (want('reliability'))
  run(
    'reliability tests (faults, bad input, deploys, security; Node-RED 4.1)',
    process.execPath,
    [mocha, ...mochaOptions, '--timeout', '180000', ...suites('reliability')],
    { NR_PKG: 'node-red' },
  );
if (want('scorecard'))
  run('Flow Library scorecard, the checks that need no network (npm run validate -- --offline)', process.execPath, [
    path.join(root, 'scripts', 'validate.js'),
    '--skip-build',
    '--offline',
  ]);
if (want('editor') && fs.existsSync(path.join(root, 'dist', 'test', 'editor'))) {
  run('editor checks', process.execPath, [mocha, ...mochaOptions, '--timeout', '60000', ...suites('editor')]);
}
if (want('browser') && fs.existsSync(path.join(root, 'dist', 'test', 'browser'))) {
  run(
    'browser tests (Chromium, Node-RED 4.1)',
    process.execPath,
    [mocha, ...mochaOptions, ...browserRetries, '--timeout', '180000', ...suites('browser')],
    {
      NR_PKG: 'node-red',
    },
  );
  const [cmd, lead] = node22();
  run(
    'browser tests (Chromium, Node-RED 5)',
    cmd,
    [...lead, mocha, ...mochaOptions, ...browserRetries, '--timeout', '180000', ...suites('browser')],
    {
      NR_PKG: 'node-red-5',
    },
  );
}

process.stdout.write('\n=== summary ===\n');
for (const r of results) {
  process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${r.label}  (${r.seconds} s)\n`);
  for (const note of r.notes) process.stdout.write(`      ${note}\n`);
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
