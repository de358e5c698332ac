import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SessionOptions } from '../../client';
import type { SimulatorOptions } from '../../simulator';
import { AccountRuntime, type AccountSettings, type ClosePolicy, type EndedNotice, type EndpointMode } from '../lib/account-runtime';
import type { AccountCredentials, AccountNode } from '../lib/accounts';

interface AccountDef extends NodeDef {
  mode: EndpointMode;
  host: string;
  port: string | number;
  tls: boolean;
  allowInsecure: boolean;
  clusterId: string;
  /** 'cluster' (001 / 002 from the list), 'str' (any other id) or 'env' (clusterId names a variable). */
  clusterIdType?: string;
  closePolicy: ClosePolicy;
  /** Minutes without use after which a session is ended (blank: 5; 0: never). */
  idleMinutes?: string | number;
}

/** The custom settings of this node type in settings.js, with their defaults (declared in registerType). */
export const ACCOUNT_SETTINGS = {
  /** Options of the built-in simulator, e.g. `{ vehicles: 5 }`. */
  openobdAccountSimulator: { value: {} as SimulatorOptions, exportable: false },
  /** Defaults of every session, e.g. `{ uds: { timeoutMs: 8000 } }`. */
  openobdAccountSession: { value: {} as SessionOptions, exportable: false },
  /** The function broker client, e.g. `{ reconnect: { initialDelayMs: 250, maxDelayMs: 10000 } }`. */
  openobdAccountFunctionBroker: { value: {} as AccountSettings['functionBroker'], exportable: false },
};

type GetSetting = (node: Node, name: string) => string | undefined;

/**
 * The environment as this node sees it: the variables of its flow and group, the global ones of the
 * settings file, then the process (Node-RED's own order, RED.util.getSetting).
 */
function nodeEnvironment(RED: NodeAPI, node: Node): NodeJS.ProcessEnv {
  const getSetting = (RED.util as unknown as { getSetting: GetSetting }).getSetting;
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => (typeof name === 'string' ? getSetting(node, name) : undefined),
  });
}

/** Minutes as the dialog stores them (blank: the default; 0: off) → milliseconds. */
function idleLimitMs(minutes: string | number | undefined): number | undefined {
  if (minutes === undefined || minutes === '') return undefined;
  const n = Number(minutes);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * 60_000) : undefined;
}

/** `${NAME}` in a credential field reads that variable (Node-RED substitutes it only in ordinary properties). */
function fromEnv(value: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!value) return undefined;
  const m = /^\$\{(\w+)\}$/.exec(value.trim());
  return m ? env[m[1]!] : value;
}

/** The comms topic on which the editor hears of sessions an account ended by itself (nodes/lib/editor/session-notices.ts). */
export const ENDED_TOPIC = 'openobd/sessions-ended';

/**
 * Where an account records its open sessions: the Node-RED user directory, one file per account. None for
 * the built-in simulator, whose sessions end with the process anyway, and none without a user directory.
 */
function journalFile(userDir: string | undefined, mode: EndpointMode, id: string): string | undefined {
  if (!userDir || mode === 'simulator') return undefined;
  return path.join(userDir, '.openobd', `sessions-${id.replace(/[^\w-]/g, '_')}.json`);
}

/**
 * "openOBD account" config node: partner credentials (stored as Node-RED credentials, never exported),
 * the endpoint (openOBD cloud, the built-in simulator, or a custom host) and what happens to open
 * sessions when it stops. The live parts sit in an AccountRuntime.
 */
export function register(RED: NodeAPI): void {
  function OpenObdAccountNode(this: Node<AccountCredentials>, def: AccountDef) {
    RED.nodes.createNode(this, def);
    const self = this as AccountNode;
    const node = this;
    const env = nodeEnvironment(RED, node);
    const creds = this.credentials ?? {};
    const settings = RED.settings as unknown as {
      openobdAccountSimulator?: SimulatorOptions;
      openobdAccountSession?: SessionOptions;
      openobdAccountFunctionBroker?: AccountSettings['functionBroker'];
    };
    const clusterId = def.clusterIdType === 'env' ? env[(def.clusterId ?? '').trim()] : def.clusterId;
    const mode: EndpointMode = def.mode === 'cloud' || def.mode === 'custom' ? def.mode : 'simulator';
    const comms = (RED as unknown as { comms?: { publish(topic: string, data: unknown, retain?: boolean): void } }).comms;
    const onEnded = (why: 'stopped' | 'crash', sessions: EndedNotice[], policy: ClosePolicy) => {
      const list = sessions.map((s) => (s.flowName ? `${s.what} (flow "${s.flowName}")` : s.what)).join(', ');
      const how = policy === 'finish' ? 'finished as failed' : 'interrupted';
      if (why === 'stopped') node.log(`Stopping ended what was still running: ${list}, ${how} (the account's close policy)`);
      // The editor says it where the user looks: a notification naming the vehicles and flows.
      comms?.publish(ENDED_TOPIC, { account: node.name || node.id, why, policy, sessions }, false);
    };
    const runtime = new AccountRuntime(this.id, {
      mode,
      host: def.host,
      port: Number(def.port) || 443,
      tls: def.tls !== false,
      allowInsecure: def.allowInsecure === true,
      clusterId: clusterId?.trim() || undefined,
      clientId: fromEnv(creds.clientId, env),
      clientSecret: fromEnv(creds.clientSecret, env),
      ca: creds.ca,
      closePolicy: def.closePolicy === 'finish' ? 'finish' : 'interrupt',
      idleLimitMs: idleLimitMs(def.idleMinutes),
      simulator: settings.openobdAccountSimulator,
      session: settings.openobdAccountSession,
      functionBroker: settings.openobdAccountFunctionBroker,
      journalFile: journalFile((RED.settings as unknown as { userDir?: string }).userDir, mode, this.id),
      onEnded,
      env,
      logger: {
        debug: (m) => node.debug(m),
        info: (m) => node.log(m),
        warn: (m) => node.warn(m),
        error: (m) => node.error(m),
      },
    });
    self.runtime = runtime;
    runtime.start();
    this.on('close', (removed: boolean, done: () => void) => {
      void runtime.close(removed ? 'the account was deleted' : 'a deploy or a stop of Node-RED').then(() => done());
    });
  }

  RED.nodes.registerType<Node<AccountCredentials>, AccountDef, unknown, AccountCredentials>('openobd-account', OpenObdAccountNode, {
    credentials: {
      clientId: { type: 'text' },
      clientSecret: { type: 'password' },
      ca: { type: 'text' },
    },
    settings: ACCOUNT_SETTINGS,
  });
}
