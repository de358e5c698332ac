import type { Node, NodeAPI, NodeDef } from 'node-red';
import { VARIABLE_CONTEXTS, type VariableContext } from '../../client';
import { ensureContext, evaluate, FlowError, liveSessionOf, requireText, shortText } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';

type Operation = 'get' | 'set' | 'delete' | 'list' | 'result' | 'arguments';

const OPERATIONS: readonly Operation[] = ['get', 'set', 'delete', 'list', 'result', 'arguments'];

interface VariablesDef extends NodeDef {
  operation: Operation;
  context: VariableContext;
  key: string;
  keySource: string;
  value: string;
  valueSource: string;
  prefix: string;
}

/**
 * "openOBD variables": the context variables of the message's session (openOBD documentation, "Context
 * variables"): get, set, delete or list them in the global, function or connection context; set a result
 * of the function the flow runs (its caller reads it); read the arguments the flow's function was given.
 */
export function register(RED: NodeAPI): void {
  function OpenObdVariablesNode(this: Node, def: VariablesDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const operation: Operation = OPERATIONS.includes(def.operation) ? def.operation : 'get';
    const context: VariableContext = VARIABLE_CONTEXTS.includes(def.context) ? def.context : 'function';

    onInput(node, kit, async (msg, send) => {
      const live = liveSessionOf(msg);
      kit.status.followSession(live.id, false, true);
      const f = live.session.functions;
      const ctx = ensureContext(msg);
      ctx.sessionId = live.id;
      const key = async () => requireText(await evaluate(RED, node, def.key ?? '', def.keySource || 'str', msg), 'variable key');
      const value = async () => {
        const v = await evaluate(RED, node, def.value ?? 'payload', def.valueSource || 'msg', msg);
        if (v === undefined) throw new FlowError('BAD_REQUEST', 'There is no value to store (the property is not set)');
        return v;
      };
      let text: string;
      switch (operation) {
        case 'get': {
          const k = await key();
          const v = await f.get(k, context);
          msg.payload = v === undefined ? null : v;
          ctx.variable = { key: k, context, found: v !== undefined };
          text = kit.t(v === undefined ? 'openobd.variables.status.missing' : 'openobd.variables.status.got', { key: shortText(k, 18) });
          break;
        }
        case 'set': {
          const k = await key();
          await f.set(k, await value(), context);
          ctx.variable = { key: k, context };
          text = kit.t('openobd.variables.status.set', { key: shortText(k, 18) });
          break;
        }
        case 'delete': {
          const k = await key();
          const deleted = await f.delete(k, context);
          ctx.variable = { key: k, context, deleted };
          text = kit.t(deleted ? 'openobd.variables.status.deleted' : 'openobd.variables.status.missing', { key: shortText(k, 18) });
          break;
        }
        case 'list': {
          const all = await f.list(context, def.prefix?.trim() || undefined);
          msg.payload = all;
          ctx.variable = { context, prefix: def.prefix?.trim() || undefined, count: Object.keys(all).length };
          text = kit.t('openobd.variables.status.listed', { count: Object.keys(all).length });
          break;
        }
        case 'result': {
          const k = await key();
          await f.setResult(k, await value());
          ctx.variable = { key: k, result: true };
          text = kit.t('openobd.variables.status.result', { key: shortText(k, 18) });
          break;
        }
        case 'arguments': {
          msg.payload = await f.arguments();
          ctx.variable = { arguments: true, count: Object.keys(msg.payload as object).length };
          text = kit.t('openobd.variables.status.listed', { count: Object.keys(msg.payload as object).length });
          break;
        }
      }
      kit.status.show({ fill: 'green', shape: 'dot', text });
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-variables', OpenObdVariablesNode);
}
