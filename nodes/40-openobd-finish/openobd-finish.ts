import type { Node, NodeAPI, NodeDef } from 'node-red';
import { RESULT_NAMES, USER_FEEDBACK_NAMES, type FinishOptions, type ResultName, type UserFeedbackName } from '../../client';
import { ensureContext, evaluate, FlowError, liveSessionOf } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { tellTechnician } from '../lib/tell-technician';

/** How long the technician's screen shows why a procedure failed before the session ends. */
const FAILURE_LABEL_S = 3;

interface FinishDef extends NodeDef {
  result: string;
  userFeedback: string;
  description: string;
  descriptionSource: string;
}

/** Accepts 'RESULT_SUCCESS', 'SUCCESS' or 'success' (and the same for user feedback). */
function normalize<T extends string>(value: unknown, names: readonly T[], prefix: string, what: string): T {
  if (typeof value !== 'string' || !value.trim()) throw new FlowError('BAD_REQUEST', `The ${what} must be one of ${names.join(', ')}`);
  const v = value
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  const full = (v.startsWith(prefix) ? v : prefix + v) as T;
  if (!names.includes(full)) throw new FlowError('BAD_REQUEST', `Unknown ${what} '${value}'; use one of ${names.join(', ')}`);
  return full;
}

/**
 * "finish": ends the message's session with a service result, stops its keepalive and streams, and sends
 * the final state on. Node settings win; blank ones take msg.result / msg.userFeedback. When the result is
 * a failure and the technician was shown something in this session, their screen says why first.
 */
export function register(RED: NodeAPI): void {
  function OpenObdFinishNode(this: Node, def: FinishDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);

    onInput(node, kit, async (msg, send) => {
      const live = liveSessionOf(msg);
      const resultRaw = def.result || (msg.result as unknown) || 'RESULT_SUCCESS';
      const results = (Array.isArray(resultRaw) ? resultRaw : [resultRaw]).map((r) =>
        normalize<ResultName>(r, RESULT_NAMES, 'RESULT_', 'service result'),
      );
      const options: FinishOptions = { result: results };
      const feedbackRaw = def.userFeedback || (msg.userFeedback as unknown);
      if (feedbackRaw !== undefined && feedbackRaw !== '')
        options.userFeedback = normalize<UserFeedbackName>(feedbackRaw, USER_FEEDBACK_NAMES, 'USER_FEEDBACK_', 'user feedback');
      const description = def.description
        ? await evaluate(RED, node, def.description, def.descriptionSource || 'str', msg)
        : msg.description;
      if (description !== undefined && description !== null && description !== '') {
        if (typeof description !== 'string') throw new FlowError('BAD_REQUEST', 'The description must be text');
        options.description = description.slice(0, 2000);
      }
      kit.status.followSession(live.id);
      // A procedure that fails tells the person at the car why, before the end blanks the screen.
      const failure = results.find((r) => r.startsWith('RESULT_FAILURE'));
      if (failure)
        await tellTechnician(
          live.session,
          kit.t('openobd.finish.toldTechnician', { why: options.description ?? kit.t(`openobd.result.${failure}`) }),
          (FAILURE_LABEL_S + 2) * 1000,
          FAILURE_LABEL_S,
        );
      const summary = await live.session.finish(options);
      const ctx = ensureContext(msg);
      ctx.state = summary.state;
      ctx.result = { result: results, userFeedback: options.userFeedback, description: options.description };
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-finish', OpenObdFinishNode);
}
