import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SimulatorOptions } from '../../simulator';
import { AccountRuntime, type ClosePolicy, type EndpointMode } from '../lib/account-runtime';
import type { AccountCredentials, AccountNode } from '../lib/accounts';

interface AccountDef extends NodeDef {
  mode: EndpointMode;
  host: string;
  port: string | number;
  tls: boolean;
  allowInsecure: boolean;
  clusterId: string;
  closePolicy: ClosePolicy;
}

/** `${NAME}` in a credential field reads the environment (Node-RED substitutes it only in ordinary properties). */
function fromEnv(value: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (!value) return undefined;
  const m = /^\$\{(\w+)\}$/.exec(value.trim());
  return m ? env[m[1]] : value;
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
    const env = process.env;
    const creds = this.credentials ?? {};
    const node = this;
    const simulatorSettings = (RED.settings as unknown as { openobdAccountSimulator?: SimulatorOptions }).openobdAccountSimulator;
    const sessionSettings = (RED.settings as unknown as { openobdAccountSession?: Record<string, unknown> }).openobdAccountSession;
    const runtime = new AccountRuntime(this.id, {
      mode: def.mode === 'cloud' || def.mode === 'custom' ? def.mode : 'simulator',
      host: def.host,
      port: Number(def.port) || 443,
      tls: def.tls !== false,
      allowInsecure: def.allowInsecure === true,
      clusterId: def.clusterId?.trim() || undefined,
      clientId: fromEnv(creds.clientId, env),
      clientSecret: fromEnv(creds.clientSecret, env),
      ca: creds.ca,
      closePolicy: def.closePolicy === 'finish' ? 'finish' : 'interrupt',
      simulator: simulatorSettings,
      session: sessionSettings,
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
  });
}
