import type { Node, NodeAPI } from 'node-red';
import type { AccountRuntime } from './account-runtime';

/** The "openOBD account" config node as flow nodes see it: its credentials and its runtime. */
export interface AccountNode extends Node<AccountCredentials> {
  runtime: AccountRuntime;
}

export interface AccountCredentials {
  clientId?: string;
  clientSecret?: string;
  ca?: string;
}

/** The account node behind a flow node's `account` property, if it is deployed. */
export function accountOf(RED: NodeAPI, id: string | undefined): AccountNode | undefined {
  if (!id) return undefined;
  const n = RED.nodes.getNode(id) as AccountNode | null;
  return n && n.runtime ? n : undefined;
}
