import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * `npm run validate` (scripts/validate.js), the Flow Library scorecard, in its offline mode: the checks
 * that need neither registry.npmjs.org nor catalogue.nodered.org are decided by node-red-dev on the packed
 * package; the others are reported as not decided, never as passed. A package broken on each of those
 * checks fails each of them.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VALIDATE = path.join(ROOT, 'scripts', 'validate.js');
const OFFLINE = ['P01', 'P03', 'P04', 'P05', 'N02', 'D01'];
const NETWORK = ['P06', 'P07', 'P08', 'N01', 'D02', 'D03'];

/** Runs validate.js; its verdict per check id, read from the scorecard lines. */
function validate(args: string[]): { status: number | null; output: string; verdicts: Record<string, string> } {
  const r = spawnSync(process.execPath, [VALIDATE, '--skip-build', '--offline', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
  const output = `${r.stdout}${r.stderr}`;
  const verdicts: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^(pass|FAIL|MISSING|NOT DECIDED)\s+([A-Z]\d\d) /gm)) verdicts[m[2]!] = m[1]!;
  return { status: r.status, output, verdicts };
}

describe('npm run validate --offline (the Flow Library scorecard without network)', function () {
  this.timeout(300000);
  let work: string;

  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'openobd-validate-test-'));
  });

  after(function () {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs the package and passes every check that needs no network; the others are not decided', function () {
    const r = validate([]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /^packed obdflow-node-red-openobd-[\d.]+\.tgz: \d+ files/m);
    assert.deepEqual(
      Object.fromEntries([...OFFLINE, ...NETWORK].map((id) => [id, r.verdicts[id]])),
      Object.fromEntries([...OFFLINE.map((id) => [id, 'pass']), ...NETWORK.map((id) => [id, 'NOT DECIDED'])]),
      r.output,
    );
  });

  it('fails each offline check on a package that breaks it', function () {
    const { npmPack } = require(VALIDATE) as { npmPack(args: string[]): Array<{ filename: string }> };
    const tarball = path.join(work, npmPack(['--pack-destination', work])[0]!.filename);
    assert.equal(spawnSync('tar', ['xzf', tarball, '-C', work]).status, 0);
    const dir = path.join(work, 'package');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    delete manifest.license; // P01
    delete manifest.repository; // P03
    delete manifest.bugs;
    manifest.name = 'node-red-openobd'; // P04: unscoped, node-red prefix without -contrib-
    manifest.keywords = ['obd']; // P05
    manifest.dependencies = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => [n, '1.0.0'])); // D01
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
    fs.rmSync(path.join(dir, 'examples'), { recursive: true }); // N02

    const r = validate(['--package', dir]);
    assert.equal(r.status, 1, r.output);
    assert.deepEqual(
      Object.fromEntries([...OFFLINE, ...NETWORK].map((id) => [id, r.verdicts[id]])),
      Object.fromEntries([...OFFLINE.map((id) => [id, 'FAIL']), ...NETWORK.map((id) => [id, 'NOT DECIDED'])]),
      r.output,
    );
    assert.match(r.output, /validate: some checks FAILED/);
  });
});
