/**
 * The report of a full-system scan (scan.ts), and the same as a short text for people without a dashboard.
 */
import { dtcMeaning } from './codec';

export interface ScanDtc {
  code: string;
  hex: string;
  status: number;
  /** What the code means (SAE J2012 / ISO 15031-6), its system and failure type: see dtcMeaning. */
  description?: string;
  [key: string]: unknown;
}

export interface ScanEcu {
  transport: 'isotp' | 'tp20' | 'kline' | 'doip';
  address: string;
  protocol: 'uds' | 'kwp2000';
  /** The ECU's own name for itself (systemNameOrEngineType), if it gives one. */
  name?: string;
  identification: { vin?: string; partNumber?: string; softwareVersion?: string; supplier?: string };
  dtcs: ScanDtc[];
  /** Steps that failed (the ECU's answers that did come are kept). */
  errors: Array<{ step: string; code: string; message: string }>;
  /** The ECU did not answer at all. */
  reachable: boolean;
  requests: number;
  elapsedMs: number;
}

export interface ScanReport {
  discovered: 'ecu-list' | 'probe' | 'given';
  ecus: ScanEcu[];
  /** The VIN most ECUs agree on. */
  vin?: string;
  summary: { ecus: number; reachable: number; withDtcs: number; dtcs: number; requests: number; elapsedMs: number };
  /** The report as a short text table (scanReportText), for people without a dashboard. */
  text: string;
}

const TRANSPORT_NAMES: Record<ScanEcu['transport'], string> = { isotp: 'ISO-TP', tp20: 'TP 2.0', kline: 'K-Line', doip: 'DoIP' };

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One ECU's head line: its address, protocol and transport, its own name and part number. */
function ecuLine(e: ScanEcu): string {
  const what = [e.name, e.identification.partNumber].filter(Boolean).join(' · ');
  const head = `${e.address} (${e.protocol === 'kwp2000' ? 'KWP2000' : 'UDS'}, ${TRANSPORT_NAMES[e.transport]})`;
  const codes = e.dtcs.length ? plural(e.dtcs.length, 'fault code', 'fault codes') : 'no fault codes';
  return `${head.padEnd(22)} ${what ? `${what}: ` : ''}${codes}`;
}

/**
 * A full-system scan as a short text table for people without a dashboard: a summary line, the VIN, then
 * each ECU that answered with its fault codes and what they mean, then the ECUs that did not answer.
 */
export function scanReportText(report: Pick<ScanReport, 'ecus' | 'vin' | 'summary'>): string {
  const s = report.summary;
  const lines = [
    `${plural(s.ecus, 'ECU', 'ECUs')}, ${s.reachable} answered, ${s.withDtcs} with fault codes (${plural(s.dtcs, 'code', 'codes')}); ` +
      `${plural(s.requests, 'request', 'requests')} in ${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (report.vin) lines.push(`VIN ${report.vin}`);
  for (const e of report.ecus.filter((x) => x.reachable)) {
    lines.push(ecuLine(e));
    for (const d of e.dtcs) {
      const meaning = dtcMeaning(d.code);
      const type = meaning?.failureType ? ` (${meaning.failureTypeDescription})` : '';
      lines.push(`    ${d.code.padEnd(9)} ${meaning ? meaning.description + type : ''}`.trimEnd());
    }
    for (const err of e.errors) lines.push(`    ${err.step}: ${err.code}`);
  }
  const silent = report.ecus.filter((x) => !x.reachable).map((x) => x.address);
  if (silent.length) lines.push(`No answer: ${silent.join(', ')}`);
  return lines.join('\n');
}
