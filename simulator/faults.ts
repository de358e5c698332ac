import { status as GrpcStatus } from '@grpc/grpc-js';
import { SimStatus } from './status';

/** Which ECU(s) a vehicle fault applies to: a name ("Engine"), a response CAN id, or every ECU. */
export type EcuSelector = string | number | undefined;

interface PlannedFailure {
  remaining: number;
  code: GrpcStatus;
  details: string;
}

/**
 * Fault injection for tests and the soak run. Every switch is explicit and off by default; `clear()`
 * turns them all off. Stream drops are carried out by the simulator, which knows the open streams.
 */
export class Faults {
  readonly #failures = new Map<string, PlannedFailure>();
  readonly #delays: Array<{ ecu: EcuSelector; ms: number }> = [];
  readonly #withheld: EcuSelector[] = [];
  readonly #answerDelays = new Map<string, number>();
  /** Token streams stay open but send nothing (a half-open connection). */
  stallTokenStreams = false;
  #refusals = 0;

  /**
   * The next `count` streams (server-streaming or bidirectional calls) are refused with
   * RESOURCE_EXHAUSTED, as a front end does with a connection at its stream cap.
   */
  refuseStreams(count: number): void {
    this.#refusals = count;
  }

  /** @internal Consumes one planned stream refusal, if any. */
  takeStreamRefusal(): SimStatus | undefined {
    if (this.#refusals <= 0) return undefined;
    this.#refusals -= 1;
    return new SimStatus(GrpcStatus.RESOURCE_EXHAUSTED, 'Too many concurrent streams on this connection');
  }

  /**
   * The next `count` calls of `method` (e.g. 'startSessionOnTicket' or 'sessionController.getSession')
   * fail with `code` before reaching the handler.
   */
  failNext(method: string, count: number, code: GrpcStatus = GrpcStatus.UNAVAILABLE, details = 'Simulated failure'): void {
    this.#failures.set(method, { remaining: count, code, details });
  }

  /** @internal Consumes one planned failure of `service.method`, if any. */
  take(service: string, method: string): SimStatus | undefined {
    for (const key of [`${service}.${method}`, method]) {
      const f = this.#failures.get(key);
      if (f && f.remaining > 0) {
        f.remaining -= 1;
        if (f.remaining === 0) this.#failures.delete(key);
        return new SimStatus(f.code, f.details);
      }
    }
    return undefined;
  }

  /**
   * Unary calls of `method` ('finish' or 'session.finish', 'interruptSession'...) answer `ms` after they
   * took effect. Separate gRPC calls are not ordered, so the ends of the streams a call closed can reach
   * the client before its answer; this makes that happen every time.
   */
  delayAnswers(method: string, ms: number): void {
    this.#answerDelays.set(method, ms);
  }

  /** @internal How long the answer of `service.method` is held back. */
  answerDelay(service: string, method: string): number {
    return this.#answerDelays.get(`${service}.${method}`) ?? this.#answerDelays.get(method) ?? 0;
  }

  /** Adds `ms` before every answer of the selected ECU(s). */
  delayResponses(ms: number, ecu?: EcuSelector): void {
    this.#delays.push({ ecu, ms });
  }

  /** The selected ECU(s) never answer (an ECU that is asleep or disconnected). */
  withholdResponses(ecu?: EcuSelector): void {
    this.#withheld.push(ecu);
  }

  /** @internal */
  extraDelay(ecuName: string, responseId: number): number {
    let ms = 0;
    for (const d of this.#delays) if (matches(d.ecu, ecuName, responseId)) ms += d.ms;
    return ms;
  }

  /** @internal */
  isWithheld(ecuName: string, responseId: number): boolean {
    return this.#withheld.some((sel) => matches(sel, ecuName, responseId));
  }

  clear(): void {
    this.#failures.clear();
    this.#delays.length = 0;
    this.#withheld.length = 0;
    this.#answerDelays.clear();
    this.stallTokenStreams = false;
    this.#refusals = 0;
  }
}

function matches(selector: EcuSelector, ecuName: string, responseId: number): boolean {
  if (selector === undefined) return true;
  if (typeof selector === 'number') return selector === responseId;
  return selector.toLowerCase() === ecuName.toLowerCase();
}
