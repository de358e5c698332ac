import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A real Node-RED, started by a test as a child process, with this package loaded from the project
 * folder (nodesDir = repository root, as scripts/start.js does) and a throw-away user directory.
 *
 * NR_PKG picks the Node-RED: `node-red` (4.1, the default) or `node-red-5`. The child runs on the Node.js
 * that runs the test (process.execPath), so `npx -y node@22 mocha ...` tests Node-RED 5 on Node 22.
 */

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface NodeRedPackage {
  /** which Node-RED: node-red (4.1) or node-red-5 (see nodeRedFolder) */
  pkg: string;
  version: string;
  redJs: string;
}

/**
 * The folder of a Node-RED under test. `node-red` (4.1) is a devDependency; `node-red-5` is not (it wants
 * Node.js 22.9, so npm install warned on Node.js 20): scripts/node-red-5.js installs it on demand into .tools/.
 */
export function nodeRedFolder(pkg = process.env.NR_PKG || 'node-red'): string {
  if (pkg === 'node-red-5') {
    const { ensureNodeRed5 } = require(path.join(ROOT, 'scripts', 'node-red-5.js')) as { ensureNodeRed5(): string };
    return ensureNodeRed5();
  }
  return path.dirname(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }));
}

export function nodeRedPackage(pkg = process.env.NR_PKG || 'node-red'): NodeRedPackage {
  const dir = nodeRedFolder(pkg);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; engines?: { node?: string } };
  return { pkg, version: manifest.version, redJs: path.join(dir, 'red.js') };
}

/** Why this Node.js cannot run that Node-RED (5.x needs 22.9 or later), or undefined. */
export function unsupportedNode(nr: NodeRedPackage): string | undefined {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (Number(nr.version.split('.')[0]) >= 5 && (major < 22 || (major === 22 && minor < 9))) {
    return `Node-RED ${nr.version} needs Node.js 22.9 or later, this is ${process.version}: run it as \`NR_PKG=${nr.pkg} npx -y node@22 node_modules/mocha/bin/mocha.js ...\` (npm test does)`;
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/** A small HTTP client for the admin API (loopback only, no keep-alive). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method || 'GET', headers: { connection: 'close', ...options.headers }, timeout: options.timeoutMs ?? 10000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode || 0, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method || 'GET'} ${url}: no answer within ${options.timeoutMs ?? 10000} ms`)));
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export interface NodeRedServer {
  pkg: string;
  version: string;
  url: string;
  port: number;
  userDir: string;
  /** Everything Node-RED printed so far (the last 2000 lines). */
  output(): string;
  /** Lines Node-RED logged at [error] level since the start or since the mark. */
  errorsSince(mark?: number): string[];
  /** A mark for errorsSince(): the number of lines printed so far. */
  mark(): number;
  /** Stops Node-RED and removes its user directory, unless it is kept for a restart. */
  stop(options?: { keepUserDir?: boolean }): Promise<void>;
  /** Kills Node-RED with SIGKILL (no chance to end anything, as an out-of-memory kill); the user directory stays. */
  kill(): Promise<void>;
}

export interface StartOptions {
  pkg?: string;
  /** Merged over the defaults (plain JSON values only: the settings file is written with JSON.stringify). */
  settings?: Record<string, unknown>;
  /** A flows file to start with. */
  flows?: unknown[];
  /** Its credentials by node id (written as plain flows_cred.json: the settings have no credentialSecret). */
  credentials?: Record<string, Record<string, string>>;
  readyTimeoutMs?: number;
  /** A user directory to start in again (left by `stop({ keepUserDir: true })`), e.g. to test a restart. */
  userDir?: string;
}

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/** Starts Node-RED and resolves once its editor answers HTTP 200. */
export async function startNodeRed(options: StartOptions = {}): Promise<NodeRedServer> {
  const nr = nodeRedPackage(options.pkg);
  const unsupported = unsupportedNode(nr);
  if (unsupported) throw new Error(unsupported);
  const port = await freePort();
  const userDir = options.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `openobd-${nr.pkg}-`));
  const settings = {
    uiPort: port,
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    nodesDir: [ROOT],
    credentialSecret: false,
    editorTheme: { tours: false, projects: { enabled: false } },
    telemetry: { enabled: false },
    externalModules: { palette: { allowInstall: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    ...options.settings,
  };
  const settingsFile = path.join(userDir, 'settings.js');
  fs.writeFileSync(settingsFile, `// written by test/support/nodered-server.ts\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`);
  if (options.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows, null, 2));
  if (options.credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(options.credentials, null, 2));

  const lines: string[] = [];
  let printed = 0;
  const child = spawn(process.execPath, [nr.redJs, '--userDir', userDir, '--settings', settingsFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  alive.add(child);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      alive.delete(child);
      resolve();
    });
  });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (!line) continue;
      lines.push(line);
      printed += 1;
      if (lines.length > 2000) lines.shift();
      if (process.env.OPENOBD_NR_LOG === '1') process.stderr.write(`  [node-red ${nr.version}] ${line}\n`);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const url = `http://127.0.0.1:${port}/`;
  const output = () => lines.join('\n');
  const stop = async (stopOptions: { keepUserDir?: boolean } = {}) => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exitPromise;
      clearTimeout(timer);
    }
    if (!stopOptions.keepUserDir) fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 3 });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`Node-RED ${nr.version} exited (${exited.code ?? exited.signal}) before it answered:\n${output()}`);
    }
    try {
      const r = await request(url, { timeoutMs: 5000 });
      if (r.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Node-RED ${nr.version} did not answer HTTP 200 at ${url} within ${options.readyTimeoutMs ?? 120000} ms:\n${output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    pkg: nr.pkg,
    version: nr.version,
    url,
    port,
    userDir,
    output,
    mark: () => printed,
    kill: async () => {
      if (!exited) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
    errorsSince: (mark = 0) => lines.slice(Math.max(0, lines.length - (printed - mark))).filter((l) => /\[error\]/.test(l)),
    stop,
  };
}

/**
 * A bearer token from Node-RED's admin API for `username` with the user's own permissions (scope ''), or
 * undefined when the sign-in is refused.
 */
export async function signIn(url: string, username: string, password: string): Promise<string | undefined> {
  const r = await request(`${url}auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope: '', username, password }).toString(),
  });
  return r.status === 200 ? r.json<{ access_token: string }>().access_token : undefined;
}
