/**
 * What a scenario reports once it passed (its figures, for the soak table and RELIABILITY_VERBOSE), what
 * the soak records for one that failed, and the soak's markdown table of both.
 */
import { inspect } from 'node:util';
import type { FlowHarness, LeakReport } from './harness';

/** The counts a scenario keeps while it runs. */
export interface Figures {
  faults: number;
  requests: number;
  /** Errors that were the point of the scenario (each with the expected code). */
  expectedErrors: number;
  recovered: number;
  details: Record<string, unknown>;
}

export const figures = (): Figures => ({ faults: 0, requests: 0, expectedErrors: 0, recovered: 0, details: {} });

/** A scenario that ran to the end: every expectation held, nothing was left behind. */
export interface ScenarioResult extends Figures {
  scenario: string;
  leaks: LeakReport;
  peakRssMb: number;
  durationMs: number;
}

/** A scenario that threw (an assertion that failed, or an error that ended it early). */
export interface ScenarioFailure {
  scenario: string;
  error: unknown;
  durationMs: number;
}

export function scenarioResult(name: string, h: FlowHarness, t0: number, leaks: LeakReport, f: Figures): ScenarioResult {
  return { scenario: name, ...f, leaks, peakRssMb: Math.round(h.rss.peak / 1048576), durationMs: Date.now() - t0 };
}

/** The soak table (markdown); a failed scenario has a row without figures. */
export function table(rows: Array<ScenarioResult | ScenarioFailure>): string {
  const out = [
    '| scenario | result | faults injected | requests sent | expected errors | recovered | leaked handles | peak RSS | time |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const time = `${(r.durationMs / 1000).toFixed(0)} s`;
    if ('error' in r) out.push(`| ${r.scenario} | FAILED | – | – | – | – | – | – | ${time} |`);
    else
      out.push(
        `| ${r.scenario} | ok | ${r.faults} | ${r.requests} | ${r.expectedErrors} | ${r.recovered} | ${r.leaks.total} | ${r.peakRssMb} MB | ${time} |`,
      );
  }
  return out.join('\n');
}

/** Prints a scenario's figures when RELIABILITY_VERBOSE is set (for tuning and the report). */
export function report(r: ScenarioResult): void {
  if (!process.env.RELIABILITY_VERBOSE) return;
  process.stdout.write(`${inspect(r, { depth: 4, breakLength: 160 })}\n`);
}
