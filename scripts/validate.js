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
 * node-red-dev stops at the first check it cannot reach, so when the catalogue does not answer, the
 * tool runs with its catalogue requests answered by an empty catalogue and P08 and N01 are reported as
 * "not decided" instead of passed. When the registry does not answer, the tool cannot run at all.
 *
 * Options: --skip-build, --keep (leave the temporary folder), --json (print the scorecard as JSON).
 * Environment: OPENOBD_VALIDATE_OFFLINE=1 treats the catalogue as unreachable without asking it.
 *
 * When this file is preloaded (`node -r scripts/validate.js ...`, with OPENOBD_VALIDATE_SHIM=1) it only
 * installs that catalogue stand-in into node-red-dev's copy of axios; see installCatalogueShim().
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const CATALOGUE_HOST = 'catalogue.nodered.org';
const REGISTRY_HOST = 'registry.npmjs.org';

/** node-red-dev's own axios (it carries 0.21), where the catalogue requests are answered offline. */
function installCatalogueShim() {
  const devDir = path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] }));
  const axios = require(require.resolve('axios', { paths: [devDir] }));
  axios.interceptors.request.use((config) => {
    if (String(config.url || '').includes(CATALOGUE_HOST)) {
      config.adapter = () =>
        Promise.resolve({ data: { modules: [] }, status: 200, statusText: 'OK (offline stand-in)', headers: {}, config, request: {} });
    }
    return config;
  });
}

if (require.main !== module) {
  if (process.env.OPENOBD_VALIDATE_SHIM === '1') installCatalogueShim();
  return;
}

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);

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

function npm(npmArgs, cwd) {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', npmArgs, {
    cwd,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) throw new Error(`npm ${npmArgs.join(' ')} failed:\n${r.stderr || r.stdout}`);
  return r.stdout;
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

async function main() {
  if (!flag('--skip-build')) {
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit', cwd: root });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }

  const [catalogue, registry] =
    process.env.OPENOBD_VALIDATE_OFFLINE === '1'
      ? [false, await reachable(REGISTRY_HOST, '/node-red')]
      : await Promise.all([reachable(CATALOGUE_HOST, '/catalogue.json'), reachable(REGISTRY_HOST, '/node-red')]);
  process.stdout.write(
    `network: ${REGISTRY_HOST} ${registry ? 'reachable' : 'NOT reachable'}, ${CATALOGUE_HOST} ${catalogue ? 'reachable' : 'NOT reachable'}\n`,
  );
  if (!registry) {
    process.stderr.write(`validate: ${REGISTRY_HOST} does not answer; node-red-dev cannot run without it (P06, P07, D02, D03).\n`);
    process.exit(2);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-validate-'));
  let failed = false;
  try {
    // The tarball npm would publish, unpacked as the Flow Library sees it (package/).
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], root));
    const tarball = path.join(tmp, packed[0].filename);
    process.stdout.write(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} kB\n`);
    const x = spawnSync('tar', ['xzf', tarball, '-C', tmp], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`tar failed: ${x.stderr}`);
    const pkgDir = path.join(tmp, 'package');
    const out = path.join(tmp, 'scorecard.json');

    const cli = path.join(path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] })), 'bin', 'run');
    const nodeArgs = catalogue ? [] : ['-r', __filename];
    process.stdout.write(
      `\nnode-red-dev validate -p ${pkgDir}${catalogue ? '' : `   (${CATALOGUE_HOST} answered by an empty catalogue)`}\n\n`,
    );
    const r = spawnSync(process.execPath, [...nodeArgs, cli, 'validate', '-p', pkgDir, '-o', out], {
      cwd: tmp,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, OPENOBD_VALIDATE_SHIM: catalogue ? '0' : '1' },
      timeout: 300000,
    });
    if (!fs.existsSync(out))
      throw new Error(`node-red-dev validate wrote no scorecard (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
    const card = JSON.parse(fs.readFileSync(out, 'utf8'));
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

    process.stdout.write(`\n=== Flow Library scorecard of ${pkg.name}@${pkg.version} ===\n`);
    for (const [id, what, needs] of CHECKS) {
      const entry = card[id];
      let verdict;
      if (needs === CATALOGUE_HOST && !catalogue) verdict = 'NOT DECIDED';
      else if (!entry) verdict = 'MISSING';
      else verdict = entry.test ? 'pass' : 'FAIL';
      // P05: node-red-dev 0.1.6 records a pass even without the keyword, so it is checked here too.
      if (id === 'P05' && !(Array.isArray(pkg.keywords) && pkg.keywords.includes('node-red'))) verdict = 'FAIL';
      if (verdict === 'FAIL' || verdict === 'MISSING') failed = true;
      const extra =
        id === 'P01' && entry
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
                    : needs === CATALOGUE_HOST && !catalogue
                      ? `needs ${CATALOGUE_HOST}`
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
      : `\nvalidate: every check that could be decided here passed${catalogue ? '' : ` (P08, N01 need ${CATALOGUE_HOST})`}\n`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`validate: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
