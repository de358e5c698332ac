/**
 * A simulated KWP2000 ECU (ISO 14230-3), as found on the K-Line and, in VW-group cars, behind TP 2.0:
 * StartDiagnosticSession (0x10), ReadEcuIdentification (0x1A), ReadDiagnosticTroubleCodesByStatus
 * (0x18), ClearDiagnosticInformation (0x14), ReadDataByLocalIdentifier (0x21) and TesterPresent
 * (0x3E). The envelope is UDS's (SID + 0x40, `7F SID NRC`); the parameters are KWP2000's. Pure logic:
 * time comes with every request.
 */
import type { CompiledKwpEcu, EcuLink, KwpValue } from './definition';
import type { EcuFrame, EcuStatus, VehicleEnvironment } from './ecu';
import { uintBytes } from './bytes';

const NRC = {
  serviceNotSupported: 0x11,
  subFunctionNotSupportedInvalidFormat: 0x12,
  requestOutOfRange: 0x31,
} as const;

/** statusOfDTC request 00 asks for the DTCs stored as present; the others for every DTC (ISO 14230-3). */
const STORED_ONLY = 0x00;
const STANDARD_SESSION = 0x81;

export class KwpEcu {
  readonly name: string;
  readonly link: EcuLink;
  readonly protocol = 'kwp2000';
  private session = STANDARD_SESSION;
  private lastActivityAt = 0;
  private readonly dtcs: Array<{ code: number; status: number }>;

  constructor(
    private readonly def: CompiledKwpEcu,
    private readonly env: VehicleEnvironment,
  ) {
    this.name = def.name;
    this.link = def.link;
    this.dtcs = def.dtcs.map((d) => ({ ...d }));
  }

  receive(payload: Buffer, _functional: boolean, now: number): EcuFrame[] {
    if (payload.length === 0) return [];
    // No request within P3max: the communication ended, and with it any diagnostic session (ISO 14230-2/-3).
    if (now - this.lastActivityAt > this.def.s3Ms) this.session = STANDARD_SESSION;
    this.lastActivityAt = now;
    const answer = this.dispatch(payload);
    if (answer === null) return [];
    return [{ delayMs: this.def.responseDelayMs, payload: answer }];
  }

  startOperationCycle(): void {
    this.session = STANDARD_SESSION;
    this.dtcs.splice(0, this.dtcs.length, ...this.def.dtcs.map((d) => ({ ...d })));
  }

  status(): EcuStatus {
    return {
      session: this.session,
      unlockedLevel: null,
      dtcs: this.dtcs.map((d) => ({ code: d.code, status: d.status, permanent: false })),
    };
  }

  private value(v: KwpValue): Buffer {
    return v.kind === 'vin' ? Buffer.from(this.env.vin, 'latin1') : v.bytes;
  }

  private dispatch(p: Buffer): Buffer | null {
    const sid = p[0]!;
    const negative = (nrc: number) => Buffer.of(0x7f, sid, nrc);
    switch (sid) {
      case 0x10: {
        if (p.length !== 2) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        if (!this.def.sessions.has(p[1]!)) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        this.session = p[1]!;
        return Buffer.of(0x50, p[1]!);
      }
      case 0x1a: {
        if (p.length !== 2) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        const v = this.def.identification.get(p[1]!);
        return v ? Buffer.concat([Buffer.of(0x5a, p[1]!), this.value(v)]) : negative(NRC.requestOutOfRange);
      }
      case 0x21: {
        if (p.length !== 2) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        const v = this.def.localIdentifiers.get(p[1]!);
        return v ? Buffer.concat([Buffer.of(0x61, p[1]!), this.value(v)]) : negative(NRC.requestOutOfRange);
      }
      case 0x18: {
        // 18 statusOfDTC groupOfDTC(2) → 58 numberOfDTC [DTC(2) statusOfDTC]…
        if (p.length !== 4) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        const group = p.readUInt16BE(2);
        const selected = this.dtcs.filter((d) => inGroup(d.code, group) && (p[1] !== STORED_ONLY || (d.status & 0x60) === 0x60));
        return Buffer.concat([
          Buffer.of(0x58, selected.length),
          ...selected.map((d) => Buffer.concat([uintBytes(d.code, 2), Buffer.of(d.status)])),
        ]);
      }
      case 0x14: {
        // 14 groupOfDiagnosticInformation(2): FF00 = all groups → 54 group(2)
        if (p.length !== 3) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        const group = p.readUInt16BE(1);
        if (group !== 0xff00 && ![0x0000, 0x4000, 0x8000, 0xc000].includes(group)) return negative(NRC.requestOutOfRange);
        for (let i = this.dtcs.length - 1; i >= 0; i--) if (inGroup(this.dtcs[i]!.code, group)) this.dtcs.splice(i, 1);
        return Buffer.of(0x54, p[1]!, p[2]!);
      }
      case 0x3e: {
        // 3E [responseRequired]: 01 (or absent) yes, 02 no (ISO 14230-3).
        if (p.length > 2) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        if (p.length === 2 && p[1] === 0x02) return null;
        if (p.length === 2 && p[1] !== 0x01) return negative(NRC.subFunctionNotSupportedInvalidFormat);
        return Buffer.of(0x7e);
      }
      default:
        return negative(NRC.serviceNotSupported);
    }
  }
}

/** FF00 is every group; otherwise the DTC's top two bits (P, C, B, U) select its group (ISO 15031-6 codes). */
function inGroup(code: number, group: number): boolean {
  return group === 0xff00 || (code & 0xc000) === group;
}
