import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SessionOptions } from '../../client';
import type { SimulatorOptions } from '../../simulator';
import { AccountRuntime, type AccountSettings, type ClosePolicy, type EndpointMode } from '../lib/account-runtime';
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
    const runtime = new AccountRuntime(this.id, {
      mode: def.mode === 'cloud' || def.mode === 'custom' ? def.mode : 'simulator',
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
    this.on('close', (_removed: boolean, done: () => void) => {
      void runtime.close().then(() => done());
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
