import type { Node, NodeAPI, NodeDef } from 'node-red';
import { codec, download, hexNumber } from '../../client';
import { ecuNodeOf } from '../lib/ecu-spec';
import { FlowError, ensureContext, liveSessionOf, type OpenObdMsg } from '../lib/flow';
import { flowNodeKit, onInput, reportSettingsProblem } from '../lib/flow-node';
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
    // The node's own settings, checked at deploy: a message to a node whose settings cannot work fails at once.
    let fixedAddress: number | undefined;
    let format = 0;
    let found: { error: FlowError; status: string } | undefined;
    if (!ecuNode) {
      found = {
        status: 'openobd.status.noEcu',
        error: new FlowError(
          'BAD_CONFIG',
          'Select an ECU in the ECU field of this node: none is selected, or it is missing (deleted or not deployed)',
        ),
      };
    } else if (!ecuNode.spec) {
      found = {
        status: 'openobd.status.badEcu',
        error: new FlowError('BAD_CONFIG', `ECU "${ecuNode.label}" is misconfigured: ${ecuNode.problem ?? 'unknown problem'}`),
      };
    } else {
      try {
        if (def.address?.trim()) fixedAddress = parseAddress(def.address, "The node's Address field");
        if (def.dataFormat?.trim()) format = parseAddress(def.dataFormat, "The node's Data format field");
      } catch (err) {
        found = { status: 'openobd.status.errors.BAD_CONFIG', error: err as FlowError };
      }
    }
    const problem = found && reportSettingsProblem(node, kit, found.error, found.status);
    const spec = ecuNode?.spec;

    onInput(
      node,
      kit,
      async (msg: OpenObdMsg, send) => {
        if (!spec) return; // never: a node without a usable ECU has a settings problem, and no message gets here
        const live = liveSessionOf(msg);
        const address = fixedAddress ?? parseAddress(msg.address, 'msg.address');
        const data = codec.toPayloadBytes(msg.payload, { maxLength: 64 * 1024 * 1024 });
        status.show(busyStatus(t('openobd.status.downloadStarting', { bytes: data.length })));
        const result = await download(live.session, spec, {
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
        status.show({
          fill: 'green',
          shape: 'dot',
          text: t('openobd.status.downloadDone', { bytes: result.bytes, blocks: result.blocks }),
        });
        send(msg);
      },
      { problem },
    );
  }
  RED.nodes.registerType('openobd-download', OpenObdDownloadNode);
}
