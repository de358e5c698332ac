/**
 * A full-system scan: find the ECUs (openOBD's list of detected ECUs, or probing a range of CAN ids),
 * read each one's identification and DTCs, and put it all in one report. ECUs are read concurrently,
 * at most `concurrency` at a time within the J-Rex's 32 channels (openOBD documentation,
 * "Limitations"); the requests to one ECU go one after another, so the scan takes about as long as the
 * slowest ECU's chain of round trips. All buses are configured in one call before the first request.
 */
import { scanReportText, type ScanDtc, type ScanEcu, type ScanReport } from './scan-report';
import { MAX_CHANNELS } from './channel-budget';
import { OpenObdError, isOpenObdError } from './errors';
import { decodeResponse, type DecodedResponse } from './codec';
import { detectedEcus, ecuAddressText, prepareEcu } from './transports';
import type { Session } from './session';
import type { UdsExchange, UdsTiming } from './uds-request';
import { diagnosticProtocolOf, type CanBusSpec, type EcuSpec, type IsotpEcuSpec } from './vehicle-spec';
import { canIdText, type BusConfigurationMessage } from '../protocol';

export type { ScanDtc, ScanEcu, ScanReport } from './scan-report';

/** The J-Rex handles 32 channels at a time (openOBD documentation, "Limitations"). */
export const MAX_CONCURRENT_CHANNELS = MAX_CHANNELS;

export interface ScanTarget {
  spec: EcuSpec;
  /** How people write the address ("7E0/7E8", "K-Line 15"). */
  address?: string;
}

export interface ProbeRange {
  bus: CanBusSpec;
  /** First and last request id to try. */
  from: number;
  to: number;
  /** Response id = request id + this (default 8, the OBD-II convention of ISO 15765-4). */
  responseOffset?: number;
  /** The probe (default TesterPresent 3E 00); any answer, negative too, means an ECU is there. */
  request?: string;
  /** How long to wait for a probe's answer (default 300 ms). */
  timeoutMs?: number;
}

export interface ScanOptions {
  /** 'ecu-list' (default): openOBD's detected ECUs; 'probe': try `probe`'s ids; 'given': `ecus`. */
  discover?: 'ecu-list' | 'probe' | 'given';
  ecus?: ScanTarget[];
  probe?: ProbeRange;
  identification?: boolean;
  dtcs?: boolean;
  /** ECUs read at the same time (default and at most 32). */
  concurrency?: number;
  timing?: Partial<UdsTiming>;
  signal?: AbortSignal;
  /** After each ECU: how many are done of how many. */
  onProgress?: (done: number, total: number, ecu: ScanEcu) => void;
  /** While probing, after each id: how many ids are probed of how many, and how many ECUs answered. */
  onProbe?: (probed: number, total: number, found: number) => void;
}

interface Step {
  key: 'vin' | 'partNumber' | 'softwareVersion' | 'supplier' | 'name' | 'dtcs';
  request: Buffer;
}

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** What is read from a UDS ECU (ISO 14229-1 identification DIDs, 19 02 FF) and from a KWP2000 ECU (ISO 14230-3 1A options, 18 02 FF00). */
const PLAN: Record<'uds' | 'kwp2000', { identification: Step[]; dtcs: Step }> = {
  uds: {
    identification: [
      { key: 'vin', request: hex('22F190') },
      { key: 'partNumber', request: hex('22F187') },
      { key: 'softwareVersion', request: hex('22F189') },
      { key: 'supplier', request: hex('22F18A') },
      { key: 'name', request: hex('22F197') },
    ],
    dtcs: { key: 'dtcs', request: hex('1902FF') },
  },
  kwp2000: {
    identification: [
      { key: 'vin', request: hex('1A90') },
      { key: 'partNumber', request: hex('1A87') },
      { key: 'softwareVersion', request: hex('1A89') },
      { key: 'supplier', request: hex('1A8A') },
      { key: 'name', request: hex('1A97') },
    ],
    dtcs: { key: 'dtcs', request: hex('1802FF00') },
  },
};

/** The requests a scan sends to one ECU, in order (for the benchmark's latency bound and one-at-a-time run). */
export function scanPlan(spec: EcuSpec, options: Pick<ScanOptions, 'identification' | 'dtcs'> = {}): Buffer[] {
  const plan = PLAN[diagnosticProtocolOf(spec)];
  return [...(options.identification === false ? [] : plan.identification), ...(options.dtcs === false ? [] : [plan.dtcs])].map(
    (s) => s.request,
  );
}

function busOf(spec: EcuSpec): BusConfigurationMessage {
  return prepareEcu(spec).bus;
}

function textOf(decoded: DecodedResponse | undefined): string | undefined {
  const t = decoded?.text;
  return typeof t === 'string' && t.trim() ? t.trim() : undefined;
}

async function scanOne(session: Session, target: ScanTarget, options: ScanOptions): Promise<ScanEcu> {
  const started = Date.now();
  const spec = target.spec;
  const protocol = diagnosticProtocolOf(spec);
  const plan = PLAN[protocol];
  const steps = [...(options.identification === false ? [] : plan.identification), ...(options.dtcs === false ? [] : [plan.dtcs])];
  const ecu: ScanEcu = {
    transport: spec.transport ?? 'isotp',
    address: target.address ?? ecuAddressText(spec),
    protocol,
    identification: {},
    dtcs: [],
    errors: [],
    reachable: false,
    requests: 0,
    elapsedMs: 0,
  };
  for (const step of steps) {
    if (options.signal?.aborted) throw new OpenObdError('CLOSED', 'The scan was cancelled');
    let exchange: UdsExchange;
    ecu.requests += 1;
    try {
      exchange = await session.request(spec, step.request, options.timing, options.signal);
    } catch (err) {
      const e = isOpenObdError(err) ? err : new OpenObdError('UNKNOWN', String(err));
      if (e.code === 'CLOSED' || e.code === 'SESSION_ENDED' || e.code === 'SESSION_LOST') throw e;
      ecu.errors.push({ step: step.request.toString('hex').toUpperCase(), code: e.code, message: e.message });
      // An ECU that never answered is not asked again (each try would only wait out the timeout), nor
      // one that cannot be reached as specified (its bus conflicts, or its spec is wrong).
      if ((!ecu.reachable && e.code === 'TIMEOUT') || e.code === 'PIN_CONFLICT' || e.code === 'BAD_CONFIG') break;
      continue;
    }
    const answer = exchange.responses[0];
    if (!answer) continue;
    ecu.reachable = true;
    // A negative answer (e.g. 31: this ECU has no such identifier) leaves the field out; it is not a failure.
    if (!answer.positive) continue;
    const decoded = decodeResponse(step.request, answer.payload, { protocol });
    if (step.key === 'dtcs') {
      const list = (decoded?.dtcs as ScanDtc[] | undefined) ?? [];
      ecu.dtcs = list;
    } else if (step.key === 'name') {
      const name = textOf(decoded);
      if (name) ecu.name = name;
    } else {
      const value = step.key === 'vin' ? ((decoded?.vin as string | undefined) ?? textOf(decoded)) : textOf(decoded);
      if (value) ecu.identification[step.key] = value;
    }
  }
  ecu.elapsedMs = Date.now() - started;
  return ecu;
}

function checkProbeRange(probe: ProbeRange): void {
  if (!(Number.isInteger(probe.from) && Number.isInteger(probe.to) && probe.from >= 0 && probe.to >= probe.from && probe.to <= 0x1fffffff))
    throw new OpenObdError('BAD_CONFIG', 'The probe range must go upwards within the CAN ids');
  if (probe.to - probe.from >= 2048) throw new OpenObdError('BAD_CONFIG', 'A probe range spans at most 2048 ids');
}

/** Probes request ids from..to on `probe.bus`: the ids whose ECU answered anything. */
async function probeIds(
  session: Session,
  probe: ProbeRange,
  concurrency: number,
  signal?: AbortSignal,
  onProbe?: ScanOptions['onProbe'],
): Promise<ScanTarget[]> {
  const offset = probe.responseOffset ?? 8;
  const request = hex(probe.request ?? '3E00');
  const ids: number[] = [];
  for (let id = probe.from; id <= probe.to; id++) ids.push(id);
  const found: ScanTarget[] = [];
  let probed = 0;
  await pool(ids, concurrency, async (id) => {
    const spec: IsotpEcuSpec = { bus: probe.bus, requestId: id, responseId: id + offset };
    try {
      const r = await session.request(spec, request, { timeoutMs: probe.timeoutMs ?? 300, busyRetries: 0 }, signal);
      if (r.responses.length > 0) found.push({ spec, address: `${canIdText(id)}/${canIdText(id + offset)}` });
    } catch (err) {
      if (!(isOpenObdError(err) && err.code === 'TIMEOUT')) throw err;
    }
    probed += 1;
    onProbe?.(probed, ids.length, found.length);
  });
  return found.sort((a, b) => (a.spec as IsotpEcuSpec).requestId - (b.spec as IsotpEcuSpec).requestId);
}

/** Runs `work` for every item, at most `limit` at a time, in order of the items. */
async function pool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  });
  await Promise.all(runners);
}

/** Scans the session's car; see the module comment. Fails only when the session does (or nothing can be found). */
export async function scanVehicle(session: Session, options: ScanOptions = {}): Promise<ScanReport> {
  const started = Date.now();
  // Channels other work on this session holds (a frames listener, a request of another flow) keep their places.
  const free = MAX_CONCURRENT_CHANNELS - session.stats.busyChannels;
  const concurrency = Math.max(1, Math.min(free, Math.floor(options.concurrency ?? MAX_CONCURRENT_CHANNELS)));
  const discovered = options.discover ?? 'ecu-list';
  let targets: ScanTarget[];
  if (discovered === 'given') {
    targets = options.ecus ?? [];
  } else if (discovered === 'probe') {
    if (!options.probe) throw new OpenObdError('BAD_CONFIG', 'A probing scan needs a probe range (bus, from, to)');
    checkProbeRange(options.probe);
    await session.configureBuses([options.probe.bus]);
    targets = await probeIds(session, options.probe, concurrency, options.signal, options.onProbe);
  } else {
    targets = detectedEcus(await session.getEcuList()).map((d) => ({ spec: d.spec, address: d.address }));
  }
  // The K-Line is one wire, and its bus names one initialisation and baud rate (ISO 14230-2): its ECUs
  // are read one after another in one lane, grouped by bus so that the bus changes once per group.
  // Everything else is read in parallel.
  const klineLane: number[] = [];
  const lanes: number[][] = [];
  targets.forEach((t, i) => (t.spec.transport === 'kline' ? klineLane.push(i) : lanes.push([i])));
  const signatureOf = (i: number) => {
    try {
      return JSON.stringify(busOf(targets[i]!.spec));
    } catch {
      return '';
    }
  };
  klineLane.sort((a, b) => signatureOf(a).localeCompare(signatureOf(b)) || a - b);
  if (klineLane.length > 0) lanes.push(klineLane);
  // Every bus in one configureBus (a bus per ECU would take a round trip each, one after another); of
  // the K-Line's definitions the first group's.
  const buses = new Map<string, BusConfigurationMessage>();
  for (const lane of lanes) {
    for (const i of lane) {
      try {
        const b = busOf(targets[i]!.spec);
        if (!buses.has(b.bus_name)) buses.set(b.bus_name, b);
      } catch {
        // a malformed spec fails its own requests, with its own error
      }
    }
  }
  if (buses.size > 0) {
    try {
      await session.configureBusMessages([...buses.values()]);
    } catch (err) {
      // A conflict (two buses on the same pins): the ECUs configure their buses themselves and report it.
      if (!(isOpenObdError(err) && (err.code === 'PIN_CONFLICT' || err.code === 'BAD_CONFIG'))) throw err;
    }
  }
  const ecus: ScanEcu[] = new Array(targets.length);
  let done = 0;
  await pool(lanes, concurrency, async (lane) => {
    for (const i of lane) {
      const result = await scanOne(session, targets[i]!, options);
      ecus[i] = result;
      done += 1;
      options.onProgress?.(done, targets.length, result);
    }
  });
  const vins = new Map<string, number>();
  for (const e of ecus) if (e.identification.vin) vins.set(e.identification.vin, (vins.get(e.identification.vin) ?? 0) + 1);
  const vin = [...vins].sort((a, b) => b[1] - a[1])[0]?.[0];
  const report: Omit<ScanReport, 'text'> = {
    discovered,
    ecus,
    ...(vin ? { vin } : {}),
    summary: {
      ecus: ecus.length,
      reachable: ecus.filter((e) => e.reachable).length,
      withDtcs: ecus.filter((e) => e.dtcs.length > 0).length,
      dtcs: ecus.reduce((n, e) => n + e.dtcs.length, 0),
      requests: ecus.reduce((n, e) => n + e.requests, 0),
      elapsedMs: Date.now() - started,
    },
  };
  return { ...report, text: scanReportText(report) };
}
