import type { Node, NodeAPI, NodeMessageInFlow, NodeStatus } from 'node-red';
import { accountOf, type AccountNode } from './accounts';
import { evaluate, FlowError, requireText, toFlowError, type OpenObdMsg } from './flow';
import { errorStatus, type Translate } from './status';
import { StatusTracker } from './status-tracker';

export type Send = (msg: OpenObdMsg | NodeMessageInFlow | Array<OpenObdMsg | NodeMessageInFlow | null>) => void;

/** What every openOBD flow node starts with: a translator, a truthful status, the account if it has one. */
export interface FlowNodeKit {
  t: Translate;
  status: StatusTracker;
  account?: AccountNode;
}

/**
 * Sets up the parts every flow node shares and returns them. The status follows the account (when the
 * node has one) and is released, with every subscription, when the node closes.
 */
export function flowNodeKit(RED: NodeAPI, node: Node, accountId?: string): FlowNodeKit {
  const t = RED._.bind(RED) as Translate;
  const status = new StatusTracker(node, t);
  const account = accountOf(RED, accountId);
  if (accountId !== undefined) status.followAccount(account?.runtime);
  node.on('close', () => status.close());
  return { t, status, account };
}

/**
 * The input handler of every flow node: runs `work` for the message and calls done(); a failure turns
 * the status red and goes to done(err), so the message that failed reaches Catch nodes with
 * msg.error.code. Nothing thrown here can take Node-RED down.
 */
export interface InputOptions {
  /** The status for a failure with this code (default: the shared short reason, `errorStatus`). */
  errorStatus?: (code: string) => NodeStatus;
  /** A setting of the node that cannot work: every message fails with it at once, before `work` runs. */
  problem?: SettingsProblem;
}

/** A setting of the node that cannot work (found when the node is created) and the status that says so. */
export interface SettingsProblem {
  error: FlowError;
  status: NodeStatus;
}

/**
 * Says at deploy that a setting of the node cannot work: a red status and one warning, which the debug
 * sidebar shows, so nobody has to start a (billed) session to find out. `statusText` is a catalog key.
 */
export function reportSettingsProblem(node: Node, kit: FlowNodeKit, error: FlowError, statusText: string): SettingsProblem {
  const problem = { error, status: { fill: 'red' as const, shape: 'ring' as const, text: statusText } };
  kit.status.show(problem.status);
  node.warn(error.message);
  return problem;
}

export function onInput(
  node: Node,
  kit: FlowNodeKit,
  work: (msg: OpenObdMsg, send: Send) => Promise<void>,
  options: InputOptions = {},
): void {
  node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
    if (options.problem) {
      kit.status.show(options.problem.status);
      done(options.problem.error);
      return;
    }
    kit.status.begin();
    work(msg as OpenObdMsg, send).then(
      () => {
        kit.status.end();
        done();
      },
      (err: unknown) => {
        const e = toFlowError(err);
        // A negative answer is the ECU's, not the node's: the node already shows it in yellow.
        if (e.code !== 'NEGATIVE_RESPONSE')
          kit.status.show(options.errorStatus ? options.errorStatus(e.code) : errorStatus(e.code, kit.t, situationOf(e)));
        kit.status.end();
        done(e);
      },
    );
  });
}

function situationOf(e: FlowError): string | undefined {
  const cause = e.cause as { situation?: unknown } | undefined;
  return typeof cause?.situation === 'string' ? cause.situation : undefined;
}

export function requireAccount(kit: FlowNodeKit): AccountNode {
  if (!kit.account) throw new FlowError('BAD_CONFIG', 'No openOBD account is selected, or it is not deployed');
  return kit.account;
}

/** The session id set in the node (any TypedInput source), else msg.openobd.sessionId. */
export async function sessionIdFrom(RED: NodeAPI, node: Node, value: string, source: string, msg: OpenObdMsg): Promise<string> {
  const raw = value ? await evaluate(RED, node, value, source || 'str', msg) : msg.openobd?.sessionId;
  if (raw === undefined) throw new FlowError('NO_SESSION', 'No session id: set one in the node or send msg.openobd.sessionId');
  return requireText(raw, 'session id');
}
