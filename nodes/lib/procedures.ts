import { randomUUID } from 'node:crypto';
import { AccountRuntime, type AccountSettings, type EndpointMode } from './account-runtime';

/**
 * The dashboard procedures of this Node-RED by node id, with the function id each one hosts, so a "call
 * procedure" node can name a procedure node of the same workspace instead of its function id (which is
 * a credential of the procedure node).
 */
export interface LocalProcedure {
  nodeId: string;
  accountId: string;
  name: string;
  functionId?: string;
  state: string;
}

const procedures = new Map<string, LocalProcedure>();

export function setProcedure(p: LocalProcedure): void {
  procedures.set(p.nodeId, p);
}

export function removeProcedure(nodeId: string, p: LocalProcedure): void {
  if (procedures.get(nodeId) === p) procedures.delete(nodeId);
}

export function procedureOf(nodeId: string): LocalProcedure | undefined {
  return procedures.get(nodeId);
}

export function listProcedures(): LocalProcedure[] {
  return [...procedures.values()];
}

/** An account as the edit dialog holds it before it is deployed: its properties and the credentials typed in. */
export interface AccountDraft {
  mode?: string;
  host?: string;
  port?: string | number;
  tls?: boolean;
  allowInsecure?: boolean;
  clusterId?: string;
  clusterIdType?: string;
  clientId?: string;
  clientSecret?: string;
  ca?: string;
}

/** What the account's own settings from settings.js add to a draft (the built-in simulator's and the broker's options). */
export type DraftDefaults = Pick<AccountSettings, 'simulator' | 'functionBroker' | 'session'>;

/** `${NAME}` in a field reads that variable, as the account node does. */
function resolve(value: string | undefined, env: (name: string) => string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^\$\{(\w+)\}$/.exec(value.trim());
  return m ? env(m[1]!) : value;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * A new function id and signature from the function broker of an account that is not deployed yet (it came
 * in with the same import as the procedure): a short-lived account runtime asks the broker and closes again.
 */
export async function identityFromDraft(
  draft: AccountDraft,
  defaults: DraftDefaults,
  env: (name: string) => string | undefined,
): Promise<{ functionId: string; signature: string }> {
  const mode: EndpointMode = draft.mode === 'cloud' || draft.mode === 'custom' ? draft.mode : 'simulator';
  const clusterId = draft.clusterIdType === 'env' ? env((text(draft.clusterId) ?? '').trim()) : text(draft.clusterId);
  const runtime = new AccountRuntime(`procedure-identity-${randomUUID()}`, {
    mode,
    host: text(draft.host),
    port: Number(draft.port) || 443,
    tls: draft.tls !== false,
    allowInsecure: draft.allowInsecure === true,
    clusterId: clusterId?.trim() || undefined,
    clientId: resolve(text(draft.clientId), env),
    clientSecret: resolve(text(draft.clientSecret), env),
    ca: text(draft.ca),
    closePolicy: 'interrupt',
    ...defaults,
  });
  try {
    const broker = await runtime.functionBroker();
    const identity = await broker.generateSignature();
    return { functionId: identity.id, signature: identity.signature.reveal() };
  } finally {
    await runtime.close('a new procedure identity was made');
  }
}
