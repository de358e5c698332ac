import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';

/*
 * `npm publish --dry-run` against a local registry that does not know the package yet (a first publish):
 * the scoped package goes out with public access (a scoped name is otherwise restricted), and npm
 * corrects nothing in package.json and warns about nothing but the login a dry run does without.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('npm publish --dry-run', function () {
  this.timeout(120000);
  let registry: http.Server;
  let url: string;

  before(async function () {
    registry = http.createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not found"}');
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(registry.address() as { port: number }).port}/`;
  });

  after(function () {
    registry.close();
  });

  it('publishes with public access and no corrected or warned field', async function () {
    const { npmCommand } = require(path.join(ROOT, 'scripts', 'validate.js')) as { npmCommand(): [string, string[]] };
    const [command, lead] = npmCommand();
    // Not spawnSync: the registry answers from this process.
    const child = spawn(command, [...lead, 'publish', '--dry-run', '--ignore-scripts', '--registry', url], {
      cwd: ROOT,
      shell: process.platform === 'win32' && !lead.length,
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(status, 0, output);
    assert.match(output, /Publishing to \S+ with tag latest and public access \(dry-run\)/, output);
    const warnings = output
      .split('\n')
      .filter((line) => /^npm warn/.test(line))
      .filter((line) => !/requires you to be logged in/.test(line));
    assert.deepEqual(warnings, [], output);
  });
});
