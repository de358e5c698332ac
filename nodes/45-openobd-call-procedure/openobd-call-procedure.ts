import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { FunctionCallResult } from '../../client';
import { ensureContext, evaluate, FlowError, liveSessionOf, requireText, shortText } from '../lib/flow';
import { flowNodeKit, onInput, requireAccount } from '../lib/flow-node';
import { procedureOf } from '../lib/procedures';
import { errorStatus } from '../lib/status';

interface CallDef extends NodeDef {
  account: string;
  /** A procedure node's id ('node'), or a function id from str / msg / flow / global / env. */
  procedure: string;
  procedureSource: string;
  arguments: string;
  /** 'none', or where the arguments object comes from (msg, json, flow, global). */
  argumentsSource: string;
  /** Seconds; blank waits. */
  timeout: string | number;
}

/**
 * "call procedure": runs another openOBD function on the message's session and waits for it to finish
 * (openOBD documentation, "Function composition"). The session is handed over to the function and comes
 * back when it finishes; msg.payload is its service result and results.
 */
export function register(RED: NodeAPI): void {
  function OpenObdCallProcedureNode(this: Node, def: CallDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node, def.account);
    const timeoutS = def.timeout === undefined || def.timeout === '' ? undefined : Number(def.timeout);
    const closing = new AbortController();
    node.on('close', () => closing.abort());

    async function functionIdFor(msg: Parameters<typeof liveSessionOf>[0]): Promise<{ id: string; name?: string }> {
      if ((def.procedureSource || 'node') === 'node') {
        const p = procedureOf(def.procedure);
        if (!p) throw new FlowError('BAD_CONFIG', 'The chosen procedure node is not deployed (or was deleted): choose another one');
        if (!p.functionId)
          throw new FlowError('FUNCTION_REFUSED', `The procedure "${p.name}" has no function id yet: it is still registering`);
        return { id: p.functionId, name: p.name };
      }
      const raw = await evaluate(RED, node, def.procedure ?? '', def.procedureSource, msg);
      return { id: requireText(raw, 'function id') };
    }

    async function argumentsFor(msg: Parameters<typeof liveSessionOf>[0]): Promise<Record<string, unknown> | undefined> {
      const source = def.argumentsSource || 'none';
      if (source === 'none') return undefined;
      const value = await evaluate(RED, node, def.arguments ?? '', source, msg);
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object' || Array.isArray(value))
        throw new FlowError(
          'BAD_REQUEST',
          `The arguments must be an object of name → value, got ${Array.isArray(value) ? 'an array' : typeof value}`,
        );
      return value as Record<string, unknown>;
    }

    onInput(
      node,
      kit,
      async (msg, send) => {
        const account = requireAccount(kit);
        const live = liveSessionOf(msg);
        const target = await functionIdFor(msg);
        const args = await argumentsFor(msg);
        const broker = await account.runtime.functionBroker();
        kit.status.followSession(live.id, false, true);
        kit.status.show({
          fill: 'blue',
          shape: 'dot',
          text: kit.t('openobd.callProcedure.status.calling', { name: shortText(target.name ?? target.id.slice(0, 8), 20) }),
        });
        const result: FunctionCallResult = await live.session.functions.call(target.id, {
          broker,
          arguments: args,
          timeoutMs: timeoutS !== undefined && timeoutS > 0 ? timeoutS * 1000 : undefined,
          signal: closing.signal,
        });
        msg.payload = { success: result.success, serviceResult: result.serviceResult, results: result.results };
        const ctx = ensureContext(msg);
        ctx.sessionId = live.id;
        ctx.state = live.session.state;
        ctx.call = { functionId: result.functionId, name: target.name, success: result.success, elapsedMs: result.elapsedMs };
        const first = (result.serviceResult.result[0] ?? 'RESULT_UNDEFINED').replace(/^RESULT_/, '');
        kit.status.show({
          fill: result.success ? 'green' : 'yellow',
          shape: 'dot',
          text: kit.t('openobd.callProcedure.status.done', { result: shortText(first, 22) }),
        });
        send(msg);
      },
      {
        errorStatus: (code) =>
          code === 'FUNCTION_TIMEOUT'
            ? { fill: 'red', shape: 'ring', text: 'openobd.callProcedure.status.timeout' }
            : code === 'FUNCTION_REFUSED'
              ? { fill: 'red', shape: 'ring', text: 'openobd.callProcedure.status.refused' }
              : errorStatus(code, kit.t),
      },
    );
  }
  RED.nodes.registerType('openobd-call-procedure', OpenObdCallProcedureNode);
}
