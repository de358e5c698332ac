/**
 * A download to an ECU (ISO 14229-1 RequestDownload 0x34, TransferData 0x36, RequestTransferExit 0x37):
 * the block length comes from the ECU's 74 answer, the block sequence counter starts at 01 and wraps
 * FF → 00, a block that got no answer is sent again with the same counter (which the ECU accepts as a
 * repeat), and response-pending answers while the ECU writes are waited out by the request engine.
 */
import { OpenObdError } from './errors';
import { nrcName } from './codec';
import type { UdsExchange, UdsTiming } from './uds-request';
import { maxPayloadOf } from './transports/table';
import type { EcuSpec } from './vehicle-spec';
import { hexByte, hexNumber, toHex } from '../protocol';

/** What a download needs from a session: requests to one ECU. */
export interface RequestSender {
  request(ecu: EcuSpec, payload: unknown, timing?: Partial<UdsTiming>, signal?: AbortSignal): Promise<UdsExchange>;
}

export interface DownloadProgress {
  blocks: number;
  totalBlocks: number;
  bytes: number;
  totalBytes: number;
}

export interface DownloadOptions {
  /** Memory address the data goes to. */
  address: number;
  data: Uint8Array;
  /** Bytes of the address and of the size in the 0x34 request (its addressAndLengthFormatIdentifier; default 4 and 4). */
  addressBytes?: number;
  sizeBytes?: number;
  /** dataFormatIdentifier: 00 = neither compressed nor encrypted (default). */
  dataFormat?: number;
  /** Send at most this many data bytes per block, even if the ECU takes more. */
  maxBlockData?: number;
  timing?: Partial<UdsTiming>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadResult {
  address: number;
  bytes: number;
  blocks: number;
  /** maxNumberOfBlockLength from the 74 answer (a whole 0x36 request: SID, counter and data). */
  maxBlockLength: number;
  /** Data bytes sent per block. */
  blockData: number;
  /** Blocks sent a second time after getting no answer. */
  repeats: number;
  /** The 77 answer's parameters as hex (the simulator puts a CRC-32 of the data there). */
  exitHex: string;
  elapsedMs: number;
}

function checkByteCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 4) throw new OpenObdError('BAD_CONFIG', `${what} must be 1 to 4 bytes, got ${String(n)}`);
  return n;
}

/** The single answer of an exchange; a negative one throws NEGATIVE_RESPONSE naming the step. */
function positiveAnswer(exchange: UdsExchange, step: string): Buffer {
  const r = exchange.responses[0];
  if (!r) throw new OpenObdError('TIMEOUT', `No answer to ${step}`, { operation: 'uds.download' });
  if (!r.positive) {
    const nrc = r.nrc ?? 0;
    throw new OpenObdError('NEGATIVE_RESPONSE', `The ECU refused ${step}: NRC ${hexByte(nrc)} ${nrcName(nrc)}`, {
      operation: 'uds.download',
      nrc,
      nrcName: nrcName(nrc),
    });
  }
  return r.payload;
}

export async function download(session: RequestSender, ecu: EcuSpec, options: DownloadOptions): Promise<DownloadResult> {
  const started = Date.now();
  const data = Buffer.from(options.data);
  if (data.length === 0) throw new OpenObdError('BAD_PAYLOAD', 'There is no data to download');
  const addressBytes = checkByteCount(options.addressBytes ?? 4, 'The address');
  const sizeBytes = checkByteCount(options.sizeBytes ?? 4, 'The size');
  const address = options.address;
  if (!Number.isInteger(address) || address < 0 || address >= 2 ** (8 * addressBytes))
    throw new OpenObdError('BAD_CONFIG', `Address ${String(address)} does not fit in ${addressBytes} byte(s)`);
  if (data.length >= 2 ** (8 * sizeBytes))
    throw new OpenObdError('BAD_PAYLOAD', `${data.length} bytes do not fit a size of ${sizeBytes} byte(s)`);
  const format = options.dataFormat ?? 0x00;
  const { timing, signal } = options;

  const request = Buffer.alloc(3 + addressBytes + sizeBytes);
  request[0] = 0x34;
  request[1] = format;
  request[2] = (sizeBytes << 4) | addressBytes;
  request.writeUIntBE(address, 3, addressBytes);
  request.writeUIntBE(data.length, 3 + addressBytes, sizeBytes);
  const accepted = positiveAnswer(
    await session.request(ecu, request, timing, signal),
    `the download of ${data.length} bytes to ${hexNumber(address, addressBytes * 2)} (34)`,
  );
  const lengthBytes = (accepted[1] ?? 0) >> 4;
  if (lengthBytes < 1 || accepted.length < 2 + lengthBytes)
    throw new OpenObdError('INVALID_RESPONSE', `The 74 answer ${toHex(accepted)} carries no maxNumberOfBlockLength`);
  const maxBlockLength = accepted.readUIntBE(2, Math.min(lengthBytes, 6));
  const transportMax = maxPayloadOf(ecu.transport ?? 'isotp');
  const blockData = Math.min(maxBlockLength - 2, transportMax - 2, options.maxBlockData ?? Infinity);
  if (!(blockData >= 1)) throw new OpenObdError('INVALID_RESPONSE', `The ECU's block length ${maxBlockLength} leaves no room for data`);

  const totalBlocks = Math.ceil(data.length / blockData);
  let counter = 0;
  let repeats = 0;
  for (let block = 0; block < totalBlocks; block++) {
    counter = (counter + 1) & 0xff;
    const part = data.subarray(block * blockData, Math.min(data.length, (block + 1) * blockData));
    const message = Buffer.concat([Buffer.of(0x36, counter), part]);
    const step = `block ${block + 1} of ${totalBlocks} (36 ${hexByte(counter)})`;
    let exchange: UdsExchange;
    try {
      exchange = await session.request(ecu, message, timing, signal);
    } catch (err) {
      // No answer: the block may have arrived. The ECU takes the same counter again as a repeat.
      if (!(err instanceof OpenObdError && err.code === 'TIMEOUT')) throw err;
      repeats += 1;
      exchange = await session.request(ecu, message, timing, signal);
    }
    const answer = positiveAnswer(exchange, step);
    if (answer[1] !== counter)
      throw new OpenObdError('INVALID_RESPONSE', `The ECU confirmed counter ${hexByte(answer[1] ?? 0)} for ${step}`, {
        operation: 'uds.download',
      });
    options.onProgress?.({
      blocks: block + 1,
      totalBlocks,
      bytes: Math.min(data.length, (block + 1) * blockData),
      totalBytes: data.length,
    });
  }
  const exit = positiveAnswer(await session.request(ecu, Buffer.of(0x37), timing, signal), 'the end of the transfer (37)');
  return {
    address,
    bytes: data.length,
    blocks: totalBlocks,
    maxBlockLength,
    blockData,
    repeats,
    exitHex: toHex(exit.subarray(1)),
    elapsedMs: Date.now() - started,
  };
}
