import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ControlMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { OpenStream } from '../state';
import { bidi } from './handlers';

/** How the simulated mechanic answers the user interface. */
export interface UiScript {
  /** Time the "user" takes to answer (default 50 ms). */
  answerDelayMs?: number;
  /** Answers used in order before the defaults apply (a boolean for yes/no, an index for options, ...). */
  answers?: Array<boolean | number | string>;
  yesNo?: boolean;
  option?: number;
  freeText?: string;
  /** A number for Numbers controls; default their minimum. */
  number?: number;
}

/**
 * `openOBD.v1.userInterface/openControlStream`: every control sent gets the answer a person would give
 * (openOBD documentation, "User interface"): labels and continue are echoed back once shown, questions get the scripted or
 * default answer, filled into the same control type.
 */
export function userInterfaceService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openControlStream: bidi(sim, 'userInterface', 'openControlStream', (call) => {
      const session = sim.activeSession(call.metadata);
      const script: UiScript = sim.options.ui ?? {};
      const queue = [...(script.answers ?? [])];
      const timers = new Set<NodeJS.Timeout>();
      const stream: OpenStream = { kind: 'control', call, dispose: () => timers.forEach(clearTimeout), finalMessage: () => call.write({}) };
      sim.trackStream(session, stream);

      const answer = (c: ControlMessage): ControlMessage => {
        const next = queue.length ? queue.shift() : undefined;
        const reply: ControlMessage = { target: c.target };
        if (c.control_yesno)
          reply.control_yesno = { label: c.control_yesno.label, answer: typeof next === 'boolean' ? next : (script.yesNo ?? true) };
        else if (c.control_options) {
          const max = Math.max(0, c.control_options.options.length - 1);
          reply.control_options = { ...c.control_options, answer: Math.min(max, typeof next === 'number' ? next : (script.option ?? 0)) };
        } else if (c.control_freetext)
          reply.control_freetext = { label: c.control_freetext.label, answer: typeof next === 'string' ? next : (script.freeText ?? 'OK') };
        else if (c.control_number) {
          const wanted = typeof next === 'number' ? next : (script.number ?? c.control_number.minimum);
          reply.control_number = {
            ...c.control_number,
            answer: Math.min(c.control_number.maximum, Math.max(c.control_number.minimum, wanted)),
          };
        } else if (c.control_continue) reply.control_continue = { ...c.control_continue };
        else if (c.control_label) reply.control_label = { ...c.control_label };
        else throw new SimStatus(GrpcStatus.INVALID_ARGUMENT, 'A control needs one of label, options, continue, yesno, freetext or number');
        return reply;
      };

      call.on('data', (c: ControlMessage) => {
        let reply: ControlMessage;
        try {
          reply = answer(c);
        } catch (err) {
          sim.closeStream(stream, { code: GrpcStatus.INVALID_ARGUMENT, details: (err as Error).message });
          return;
        }
        const timer = setTimeout(() => {
          timers.delete(timer);
          call.write(reply);
        }, script.answerDelayMs ?? 50);
        timers.add(timer);
      });
      call.on('end', () => {
        sim.forgetStream(session, stream);
        call.end();
      });
    }),
  };
}
