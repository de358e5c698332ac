import type { Node, NodeAPI, NodeDef } from 'node-red';
import { codec, download, hexNumber } from '../../client';
import { ecuNodeOf } from '../lib/ecu-spec';
import { FlowError, ensureContext, liveSessionOf, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput } from '../lib/flow-node';
import { busyStatus } from '../lib/status';

interface DownloadDef extends NodeDef {
  ecu: string;
  address: string;
  addressBytes: string | number;
  sizeBytes: string | number;
  dataFormat: string;
  timeout: string | number;
}

function parseAddress(text: unknown, what: string): number {
  if (typeof text === 'number' && Number.isInteger(text) && text >= 0) return text;
  const s = String(text ?? '')
    .trim()
    .replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{1,8}$/.test(s))
    throw new FlowError('BAD_CONFIG', `${what} '${String(text ?? '')}' is not a hex address (up to 8 digits)`);
  return parseInt(s, 16);
}

/**
 * "download": data to an ECU's memory with RequestDownload, TransferData and RequestTransferExit
 * (ISO 14229-1 0x34 / 0x36 / 0x37), in blocks of the length the ECU announces, with the progress on the
 * node's status. The ECU must be in its programming session and unlocked first (send request nodes).
 */
export function register(RED: NodeAPI): void {
  function OpenObdDownloadNode(this: Node, def: DownloadDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const kit = flowNodeKit(RED, node);
    const { status, t } = kit;
    const ecuNode = ecuNodeOf(RED, def.ecu);
    const addressBytes = Number(def.addressBytes) || 4;
    const sizeBytes = Number(def.sizeBytes) || 4;
    const timeout = Number(def.timeout) || 0;
    const closing = new AbortController();
    node.on('close', () => closing.abort());

    onInput(node, kit, async (msg: OpenObdMsg, send) => {
      const live = liveSessionOf(msg);
      if (!ecuNode?.spec)
        throw new FlowError(
          'BAD_CONFIG',
          ecuNode
            ? `ECU "${ecuNode.label}" is misconfigured: ${ecuNode.problem ?? 'unknown problem'}`
            : 'No ECU is selected, or it is not deployed',
        );
      const address = def.address?.trim() ? parseAddress(def.address, 'Address') : parseAddress(msg.address, 'msg.address');
      const data = codec.toPayloadBytes(msg.payload, { maxLength: 64 * 1024 * 1024 });
      const format = def.dataFormat?.trim() ? parseAddress(def.dataFormat, 'Data format') : 0;
      status.show(busyStatus(t('openobd.status.downloadStarting', { bytes: data.length })));
      const result = await download(live.session, ecuNode.spec, {
        address,
        data,
        addressBytes,
        sizeBytes,
        dataFormat: format,
        timing: timeout > 0 ? { timeoutMs: timeout } : undefined,
        signal: closing.signal,
        onProgress: (p) =>
          status.showFrequent(() =>
            busyStatus(
              t('openobd.status.downloadProgress', {
                blocks: p.blocks,
                total: p.totalBlocks,
                percent: Math.floor((100 * p.bytes) / p.totalBytes),
              }),
            ),
          ),
      });
      ensureContext(msg).download = { ...result, address: hexNumber(result.address, addressBytes * 2) };
      status.show({ fill: 'green', shape: 'dot', text: t('openobd.status.downloadDone', { bytes: result.bytes, blocks: result.blocks }) });
      send(msg);
    });
  }
  RED.nodes.registerType('openobd-download', OpenObdDownloadNode);
}
