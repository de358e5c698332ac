#!/usr/bin/env node
'use strict';
/**
 * `npm run validate`: the Flow Library scorecard of the package as it would be published.
 *
 * Builds (unless --skip-build), packs the package with `npm pack`, unpacks the tarball in a temporary
 * folder and runs `node-red-dev validate -p <folder> -o <scorecard.json>` on it, the way the Flow Library
 * does after a publish. Then prints one line per check and exits non-zero when a check that could be
 * decided failed.
 *
 * Network: P06, P07 (registry.npmjs.org: the current Node-RED release and its engines), D02 and D03
 * (registry.npmjs.org: the dependency tree and the latest versions) need the npm registry; P08 and N01
 * need the public catalogue (catalogue.nodered.org: similar package names, node types already taken).
 * node-red-dev stops at the first check it cannot reach, so a host that does not answer is answered by a
 * stand-in that decides nothing (an empty catalogue; for the registry a Node-RED no range accepts and no
 * dependencies), and the checks that need it are reported as "NOT DECIDED", never as passed.
 * P01, P03, P04, P05, N02 and D01 need no network: `--offline` decides only those (npm test runs it).
 *
 * Options: --skip-build, --offline (ask neither host), --package <dir> (score that unpacked package
 * folder instead of packing this one), --verbose (node-red-dev's own lines in offline mode too),
 * --keep (leave the temporary folder), --json (print the scorecard as JSON).
 * Environment: OPENOBD_VALIDATE_OFFLINE=1 treats the catalogue as unreachable without asking it.
 *
 * When this file is preloaded (`node -r scripts/validate.js ...`, with OPENOBD_VALIDATE_SHIM set to the
 * hosts to stand in for) it only installs those stand-ins into node-red-dev; see installShim(). Required,
 * it gives npmCommand() and npmPack() (test/package uses them).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const CATALOGUE_HOST = 'catalogue.nodered.org';
const REGISTRY_HOST = 'registry.npmjs.org';
// A Node-RED release that no version range accepts: P06 and P07 cannot pass on the stand-in by accident.
const NO_RELEASE = '0.0.0-offline';

/** Stand-ins inside node-red-dev for the hosts named in OPENOBD_VALIDATE_SHIM (comma-separated). */
function installShim(hosts) {
  const devDir = path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] }));
  const axios = require(require.resolve('axios', { paths: [devDir] }));
  const answer = (config, data) =>
    Promise.resolve({ data, status: 200, statusText: 'OK (offline stand-in)', headers: {}, config, request: {} });
  axios.interceptors.request.use((config) => {
    const url = String(config.url || '');
    if (hosts.includes(CATALOGUE_HOST) && url.includes(CATALOGUE_HOST)) config.adapter = () => answer(config, { modules: [] });
    if (hosts.includes(REGISTRY_HOST) && url.includes(REGISTRY_HOST)) {
      config.adapter = () =>
        answer(config, { 'dist-tags': { latest: NO_RELEASE }, versions: { [NO_RELEASE]: { engines: { node: '*' } } } });
    }
    return config;
  });
  if (!hosts.includes(REGISTRY_HOST)) return;
  // D02 and D03 ask the registry through these two packages, not through axios.
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function (request, parent, ...rest) {
    if (parent && parent.filename && parent.filename.startsWith(devDir + path.sep)) {
      if (request === 'npm-remote-ls') return { ls: (_name, _version, _flatten, done) => done([]), config: () => undefined };
      if (request === 'npm-check') return () => Promise.resolve(new Map([['packages', []]]));
    }
    return load.call(this, request, parent, ...rest);
  };
}

/**
 * The npm that runs this script (npm_execpath), else npm on PATH: under `npm run`, `npm` on PATH is
 * node_modules/.bin/npm, the npm 10 Node-RED depends on.
 */
function npmCommand() {
  const execpath = process.env.npm_execpath;
  return execpath && /npm-cli\.js$/.test(execpath)
    ? [process.execPath, [execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}

/**
 * `npm pack --json --ignore-scripts <args>` in the project, parsed. npm 10 runs `prepare` despite
 * --ignore-scripts (npm 11 does not), and the build's lines then come before the JSON on stdout.
 */
function npmPack(args) {
  const [command, lead] = npmCommand();
  const r = spawnSync(command, [...lead, 'pack', '--json', '--ignore-scripts', ...args], {
    cwd: root,
    encoding: 'utf8',
    shell: process.platform === 'win32' && !lead.length,
  });
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.stderr || r.stdout}`);
  // The report is a JSON array on lines of its own; whatever a script printed comes before it.
  const start = r.stdout.search(/^\[$/m);
  if (start < 0) throw new Error(`npm pack printed no JSON report:\n${r.stdout}`);
  return JSON.parse(r.stdout.slice(start));
}

if (require.main !== module) {
  if (process.env.OPENOBD_VALIDATE_SHIM) installShim(process.env.OPENOBD_VALIDATE_SHIM.split(','));
  module.exports = { npmCommand, npmPack };
  return;
}

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/** Whether https://<host><pathname> answers at all (any HTTP status) within the time. */
function reachable(host, pathname, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const req = https.request({ host, path: pathname, method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

const CHECKS = [
  ['P01', 'licence', null],
  ['P03', 'repository or bugs link', null],
  ['P04', 'scoped or valid name', null],
  ['P05', 'node-red keyword', null],
  ['P06', 'node-red.version accepts the current Node-RED release', REGISTRY_HOST],
  ['P07', 'engines.node accepts the Node.js of the current Node-RED', REGISTRY_HOST],
  ['P08', 'no similarly named package in another scope', CATALOGUE_HOST],
  ['N01', 'node types unique in the catalogue', CATALOGUE_HOST],
  ['N02', 'every node type used in an example', null],
  ['D01', 'six dependencies or fewer', null],
  ['D02', 'no known-bad package in the dependency tree', REGISTRY_HOST],
  ['D03', 'the latest release of each dependency is within its range', REGISTRY_HOST],
];

/** The package as npm would publish it, unpacked into <tmp>/package. */
function packProject(tmp) {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'openobd.js'))) throw new Error('dist/ is not built: run without --skip-build');
  // The build already ran: `prepare` need not build again.
  const packed = npmPack(['--pack-destination', tmp]);
  const tarball = path.join(tmp, packed[0].filename);
  process.stdout.write(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} kB\n`);
  const x = spawnSync('tar', ['xzf', tarball, '-C', tmp], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`tar failed: ${x.stderr}`);
  return path.join(tmp, 'package');
}

async function main() {
  const given = option('--package');
  if (!flag('--skip-build') && !given) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit', cwd: root });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }

  const offline = flag('--offline');
  const [catalogue, registry] = offline
    ? [false, false]
    : process.env.OPENOBD_VALIDATE_OFFLINE === '1'
      ? [false, await reachable(REGISTRY_HOST, '/node-red')]
      : await Promise.all([reachable(CATALOGUE_HOST, '/catalogue.json'), reachable(REGISTRY_HOST, '/node-red')]);
  const state = (up) => (offline ? 'not asked (--offline)' : up ? 'reachable' : 'NOT reachable');
  process.stdout.write(`network: ${REGISTRY_HOST} ${state(registry)}, ${CATALOGUE_HOST} ${state(catalogue)}\n`);
  const standIns = [...(catalogue ? [] : [CATALOGUE_HOST]), ...(registry ? [] : [REGISTRY_HOST])];
  const reached = (host) => (host === CATALOGUE_HOST ? catalogue : registry);
  const undecided = CHECKS.filter(([, , needs]) => needs && !reached(needs)).map(([id]) => id);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-validate-'));
  let failed = false;
  try {
    const pkgDir = given ? path.resolve(given) : packProject(tmp);
    const out = path.join(tmp, 'scorecard.json');
    const cli = path.join(path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] })), 'bin', 'run');
    const nodeArgs = standIns.length ? ['-r', __filename] : [];
    // Offline, node-red-dev's lines about the stand-ins would read as verdicts: shown with --verbose only.
    const quiet = offline && !flag('--verbose');
    const note = standIns.length ? `   (stand-ins for ${standIns.join(', ')}: its lines on ${undecided.join(', ')} decide nothing)` : '';
    process.stdout.write(`\nnode-red-dev validate -p ${pkgDir}${note}\n\n`);
    const r = spawnSync(process.execPath, [...nodeArgs, cli, 'validate', '-p', pkgDir, '-o', out], {
      cwd: tmp,
      stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
      encoding: 'utf8',
      env: { ...process.env, OPENOBD_VALIDATE_SHIM: standIns.join(',') },
      timeout: 300000,
    });
    if (!fs.existsSync(out)) {
      if (quiet) process.stdout.write(`${r.stdout || ''}${r.stderr || ''}`);
      throw new Error(`node-red-dev validate wrote no scorecard (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
    }
    const card = JSON.parse(fs.readFileSync(out, 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

    process.stdout.write(`\n=== Flow Library scorecard of ${pkg.name}@${pkg.version} ===\n`);
    for (const [id, what, needs] of CHECKS) {
      const entry = card[id];
      let verdict;
      if (needs && !reached(needs)) verdict = 'NOT DECIDED';
      else if (!entry) verdict = 'MISSING';
      else verdict = entry.test ? 'pass' : 'FAIL';
      // P05: node-red-dev 0.1.6 records a pass even without the keyword, so it is checked here too.
      if (id === 'P05' && !(Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red'))) verdict = 'FAIL';
      if (verdict === 'FAIL' || verdict === 'MISSING') failed = true;
      const extra =
        needs && !reached(needs)
          ? ''
          : id === 'P01' && entry
            ? entry.license
            : id === 'P06' && entry && entry.versions
              ? `Node-RED ${entry.versions.join(', ')}`
              : id === 'P07' && entry
                ? `engines.node ${entry.version}`
                : id === 'D01' && entry
                  ? `${entry.total} dependencies`
                  : id === 'N02' && entry && entry.nodes
                    ? `${entry.nodes.length} types: ${entry.nodes.join(', ')}`
                    : (id === 'D02' || id === 'D03') && entry && entry.packages
                      ? entry.packages.join(', ')
                      : '';
      process.stdout.write(`${verdict.padEnd(12)}${id}  ${what}${extra ? `  (${extra})` : ''}${needs ? `   [network: ${needs}]` : ''}\n`);
    }
    if (flag('--json')) process.stdout.write(`${JSON.stringify(card, null, 2)}\n`);
    if (flag('--keep')) process.stdout.write(`\nkept ${tmp}\n`);
  } finally {
    if (!flag('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(
    failed
      ? '\nvalidate: some checks FAILED\n'
      : `\nvalidate: every check that could be decided here passed${undecided.length ? ` (not decided: ${undecided.join(', ')})` : ''}\n`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`validate: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
