import type { UdsTarget } from '../uds-request';
import type { EcuSpec, Transport } from '../vehicle-spec';
import type { TransportFields } from '../input-rules';
import type { BusConfigurationMessage, ServiceName } from '../../protocol';
import type { SettingsOfTransport } from './settings';
import type { ChannelKind } from './stream-link';

/**
 * One transport of diagnostic requests (ISO-TP, K-Line, TP 2.0, DoIP): everything the engine needs to
 * reach an ECU over it. The table of them is transports/table.ts; a new transport is one such module
 * (and its simulator service), see CONTRIBUTING.md.
 */
export interface TransportModule<S extends EcuSpec = EcuSpec, C extends object = object> {
  /** The ECU spec's `transport` ('isotp' also stands for a spec without one). */
  readonly id: Transport;
  /** Its name as people write it ("DoIP"), e.g. in scan reports. */
  readonly name: string;
  /** An ECU's address (the id an answer is reported from or sent to) as people write it on this transport. */
  idText(id: number): string;
  /** How its channels are told apart on its stream. */
  readonly channel: ChannelKind<C>;
  /** The openOBD service and method of its bidirectional stream. */
  readonly service: ServiceName;
  readonly method: string;
  /** The longest request it carries, in bytes. */
  readonly maxPayload: number;
  /**
   * The spec's own fields and its bus's fields that decide the channels and the bus: a prepared spec is
   * reused while they keep their values (a spec is a plain object a flow may change). Adding a field to
   * a spec means adding it here.
   */
  readonly ecuFields: readonly string[];
  readonly busFields: readonly string[];
  /** The bus message and the channels of a spec; a malformed spec throws BAD_CONFIG. */
  prepare(spec: S): { target: UdsTarget<C>; bus: BusConfigurationMessage };
  /** Requests with the same key wait for each other (answers are told apart by their content only). */
  queueKey(target: UdsTarget<C>): string;
  /** A check of the request bytes besides their length (ISO-TP: a functional request fits one frame). */
  checkRequest?(target: UdsTarget<C>, bytes: Buffer): void;
  /** Node settings (the ECU dialog, msg.openobd.ecu) to spec and back. */
  readonly settings: SettingsOfTransport<S>;
  /** What its ECU dialog shows: its entry in TRANSPORT_FIELDS (client/input-rules.ts, shipped to the editor). */
  readonly fields: TransportFields;
}

/** A spec worked out once: its transport, channels, bus message and queue. */
export interface PreparedEcu {
  readonly module: TransportModule;
  readonly target: UdsTarget<object>;
  readonly bus: BusConfigurationMessage;
  readonly queueKey: string;
}

/** A module as the table holds it (each is typed by its own spec and channel). */
export function transportModule<S extends EcuSpec, C extends object>(m: TransportModule<S, C>): TransportModule {
  return m as unknown as TransportModule;
}
