import * as path from 'node:path';
import helper = require('node-red-node-test-helper');
import type { Node } from 'node-red';
import { shown, translate } from './catalog';
import { account, catchAll, ecu, obdEcus, onTab, sink, tab } from './flow-builder';
import { nodeRedFolder } from './nodered-server';

/**
 * node-red-node-test-helper on the Node-RED version under test: `NR_PKG=node-red` (4.1, the declared
 * minimum) by default, `NR_PKG=node-red-5` for 5.x. The package's compiled node set is what is tested.
 */
export const NR_PKG = process.env.NR_PKG || 'node-red';
const nrDir = nodeRedFolder(NR_PKG);

/** Where the Node-RED under test is installed (to resolve its own packages). */
export function nodeRedDir(): string {
  return nrDir;
}

export function nodeRedVersion(): string {
  return (require(path.join(nrDir, 'package.json')) as { version: string }).version;
}

helper.init(require.resolve(nrDir));

/** A core node module of the Node-RED under test, e.g. 'common/25-catch.js'. */
export function coreNode(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [nrDir] }));
}

export const catchNode = coreNode('common/25-catch.js');

/**
 * The package's node set as Node-RED loads it, with its message catalog: the test-helper's RED._ returns
 * keys, so the runtime's own translations (texts with values in them) would never show.
 */
const nodeSet = require('../../nodes/openobd') as (RED: { _: unknown }) => void;
export const openobdNodes = (RED: { _: unknown }): void => {
  RED._ = translate;
  nodeSet(RED);
};

export { helper };

/** Fast keepalive cadence for the built-in simulator and the sessions, so tests see rotations. */
export const FAST_SETTINGS = {
  credentialSecret: false,
  openobdAccountSimulator: { tokenIntervalMs: 300, tokenValidityMs: 3000 },
  openobdAccountSession: { tokenIntervalMs: 300, tokenValidityMs: 3000, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
};

export type AnyMsg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The usual hooks of a node test suite, registered in the `describe` that calls this: `settings` (the
 * fast keepalive cadence unless told) before each test, everything unloaded after. `load` deploys a flow
 * with this package's nodes, the Catch node and `nodes`.
 */
export function nodeSuite(settings: object = FAST_SETTINGS, nodes: unknown[] = []) {
  beforeEach(function () {
    helper.settings(settings as never);
  });

  afterEach(async function () {
    await helper.unload();
    helper.settings({});
  });

  return {
    load(flow: Array<Record<string, unknown>>, credentials: Record<string, unknown> = {}) {
      return helper.load([openobdNodes, catchNode, ...nodes] as never, flow as never, credentials as never);
    },
  };
}

/** Resolves with the next message a helper node receives. */
export function nextMessage(node: Node, timeoutMs = 10000): Promise<AnyMsg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: AnyMsg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Collects every message a helper node receives. */
export function collect(node: Node): AnyMsg[] {
  const out: AnyMsg[] = [];
  node.on('input', (msg: AnyMsg) => out.push(msg));
  return out;
}

type Status = { fill?: string; shape?: string; text?: string };

/** A status as the editor shows it in English: a catalog key in `text` is translated. */
function asShown(status: Status): Status {
  return status && status.text !== undefined ? { ...status, text: shown(status.text) } : status;
}

/** Every status a node has sent since the flow started, as the runtime sent it (test-helper spies on Node.prototype.status). */
export function rawStatusHistory(node: Node): Status[] {
  const spy = node.status as unknown as { getCalls?: () => Array<{ thisValue: unknown; args: Status[] }> };
  return (spy.getCalls?.() ?? []).filter((c) => c.thisValue === node).map((c) => c.args[0]!);
}

/** Every status a node has shown since the flow started, as the editor shows it. */
export function statusHistory(node: Node): Status[] {
  return rawStatusHistory(node).map(asShown);
}

/** The statuses a node has shown from now on, as the editor shows them. */
export function recordStatus(node: Node): Status[] {
  const out: Status[] = [];
  (node as unknown as NodeJS.EventEmitter).on('call:status', (call: { args: Status[] }) => out.push(asShown(call.args[0]!)));
  return out;
}

/** A standard tab with an account on the built-in simulator, the engine ECU, every OBD ECU, and a Catch → helper. */
export function baseFlow(
  extra: Array<Record<string, unknown>>,
  accountOverrides: Record<string, unknown> = {},
): Array<Record<string, unknown>> {
  return [tab(), account(accountOverrides), ecu(), obdEcus(), catchAll('catcher', 'caught'), sink('caught'), ...extra.map((n) => onTab(n))];
}
