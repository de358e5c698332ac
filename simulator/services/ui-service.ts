import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ControlMessage } from '../../protocol';
import type { OpenObdSimulator } from '../simulator';
import { SimStatus } from '../status';
import type { OpenStream } from '../state';
import type { ControlStreamHandle } from '../technician';
import { bidi } from './handlers';

export type { UiScript } from '../technician';

/**
 * `openOBD.v1.userInterface/openControlStream`: every control sent is shown on the car's screen
 * (`sim.technician`), replacing the one before, and its answer comes back on the stream as the same
 * control type with the answer filled in (openOBD documentation, "User interface"): labels once shown for
 * their minimal display time, questions when the script or, in interactive mode, the technician answers.
 */
export function userInterfaceService(sim: OpenObdSimulator): grpc.UntypedServiceImplementation {
  return {
    openControlStream: bidi(sim, 'userInterface', 'openControlStream', (call) => {
      const session = sim.activeSession(call.metadata);
      if (!sim.functions.contexts.uiAllowed(session))
        throw new SimStatus(
          GrpcStatus.PERMISSION_DENIED,
          'This function context was started from an active context: it is communication only, without the user interface',
        );
      const handle: ControlStreamHandle = {
        connectorId: session.connectorId,
        write: (reply: ControlMessage) => {
          if (!call.destroyed && call.writable) call.write(reply);
        },
      };
      let closed = false;
      const stream: OpenStream = {
        kind: 'control',
        call,
        dispose: () => {
          if (closed) return;
          closed = true;
          sim.technician.streamClosed(handle);
        },
        finalMessage: () => call.write({}),
      };
      sim.trackStream(session, stream);

      call.on('data', (c: ControlMessage) => {
        try {
          sim.technician.show(handle, c);
        } catch (err) {
          sim.closeStream(stream, { code: GrpcStatus.INVALID_ARGUMENT, details: (err as Error).message });
        }
      });
      call.on('end', () => {
        sim.forgetStream(session, stream);
        call.end();
      });
    }),
  };
}
