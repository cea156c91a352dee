// Pure parser for what vdptool (lldpad's VDP 2.2 client) prints.
//
// Shapes seen from lldpad 1.1 (Debian), see test/fixtures/portprofile-vdptool-*:
//   set with -W, answered:   "Response from VDP\n\tmode = assoc\n\tmgrid2 = 5\n ... \tfilter = 0-fa:16:3e:5d:12:7a"
//                            (the hints field is replaced by "\tError returned by Bridge: ..." or
//                             "\tInternal Error : ..." lines when the answer carries an error)
//   set with -W, no answer within vdptool's 5 s: nothing at all, exit 0
//   query (-t):              "VSI  0:\n\tmode = assoc\n ... \thints = 0\n\tfilter = ..." per VSI;
//                            here "hints" is lldpad's status: (smi_err << 8) | response
//   refused by lldpad:       "FAILED: Device not found or inactive" (exit 1)
//   no lldpad:               "connect: Connection refused" / "Failed to connect to lldpad - clif_open: ..." (exit 255)

export interface VdptoolVsi {
  mode?: string;
  mgrid2?: string;
  typeid?: number;
  typeidver?: number;
  uuid?: string;
  /** Query output only: lldpad's numeric status word. */
  hints?: number;
  filters: string[];
  /** "Error returned by Bridge: ..." texts (the switch's answer). */
  bridgeErrors: string[];
  /** "Internal Error : ..." texts (lldpad's own: ack/keepalive timeout, tx error). */
  internalErrors: string[];
}

export interface VdptoolOutput {
  /** The text after "FAILED:", when lldpad refused the command. */
  failed?: string;
  /** "Response from VDP" blocks (set with -W). */
  responses: VdptoolVsi[];
  /** "VSI  n:" blocks (query). */
  vsis: VdptoolVsi[];
  /** vdptool could not reach lldpad. */
  notConnected: boolean;
  /** Lines not understood, kept for messages. */
  other: string[];
}

const NOT_CONNECTED = /Failed to connect to lldpad|clif_open|Not connected to lldpad|Failed to attach to lldpad|^connect: /u;

function emptyVsi(): VdptoolVsi {
  return { filters: [], bridgeErrors: [], internalErrors: [] };
}

export function parseVdptoolOutput(stdout: string, stderr = ''): VdptoolOutput {
  const out: VdptoolOutput = { responses: [], vsis: [], notConnected: false, other: [] };
  let cur: VdptoolVsi | undefined;
  for (const raw of `${stdout}\n${stderr}`.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    if (NOT_CONNECTED.test(line.trim())) {
      out.notConnected = true;
      out.other.push(line.trim());
      continue;
    }
    const failed = /^FAILED:\s*(.*)$/u.exec(line.trim());
    if (failed) {
      out.failed = failed[1]!.trim();
      cur = undefined;
      continue;
    }
    if (line.trim() === 'Response from VDP') {
      cur = emptyVsi();
      out.responses.push(cur);
      continue;
    }
    if (/^VSI\s+\d+:$/u.test(line.trim())) {
      cur = emptyVsi();
      out.vsis.push(cur);
      continue;
    }
    const bridgeErr = /^\s*Error returned by Bridge:\s*(.*)$/u.exec(line);
    if (bridgeErr && cur) {
      cur.bridgeErrors.push(bridgeErr[1]!.trim());
      continue;
    }
    const internalErr = /^\s*Internal Error\s*:\s*(.*)$/u.exec(line);
    if (internalErr && cur) {
      cur.internalErrors.push(internalErr[1]!.trim());
      continue;
    }
    const kv = /^\s+([a-z0-9]+) = (.*)$/u.exec(line);
    if (kv && cur) {
      setField(cur, kv[1]!, kv[2]!.trim());
      continue;
    }
    out.other.push(line.trim());
  }
  return out;
}

function setField(v: VdptoolVsi, key: string, value: string): void {
  switch (key) {
    case 'mode': v.mode = value; break;
    case 'mgrid2': v.mgrid2 = value; break;
    case 'typeid': v.typeid = Number(value); break;
    case 'typeidver': v.typeidver = Number(value); break;
    case 'uuid': v.uuid = value.toLowerCase(); break;
    case 'hints': if (/^\d+$/u.test(value)) v.hints = Number(value); break;
    case 'filter': v.filters.push(value); break;
    default: break;
  }
}

// lldpad's qbg_vdp22def.h: response codes and status bits.
export const VDP22_RESP_SUCCESS = 0;
export const VDP22_RESP_NONE = 255;
const RESPONSE_TEXT: Record<number, string> = {
  1: 'VDP TLV Format is Invalid',
  2: 'Insufficient resources at bridge',
  3: 'Unable to contact VSI Mgr',
  4: 'Other Failures',
  5: 'Invalid VID, GroupID or MAC address field',
  252: 'Deassoc received from switch',
  253: 'Timeout Error',
  254: 'Command rejected by bridge and state prior to requested command is kept',
};
const SMI_TEXT: Array<[number, string]> = [
  [1 << 0, 'Keepalive Timeout'],
  [1 << 1, 'Ack not received from bridge'],
  [1 << 2, 'Transmission Error'],
];

export type VsiStatusKind = 'associated' | 'pending' | 'rejected' | 'timeout';

export interface VsiStatus {
  kind: VsiStatusKind;
  code: number;
  /** lldpad's words for it, as vdptool would print them. */
  text: string;
}

/** Decodes the numeric status word a query prints as "hints = N". */
export function decodeVsiStatus(code: number): VsiStatus {
  const resp = code & 0xff;
  const smi = (code >> 8) & 0xff;
  const texts = SMI_TEXT.filter(([bit]) => smi & bit).map(([, t]) => t);
  if (RESPONSE_TEXT[resp]) texts.unshift(RESPONSE_TEXT[resp]!);
  const text = texts.join('; ');
  if (texts.length === 0 && resp === VDP22_RESP_SUCCESS) return { kind: 'associated', code, text: 'Successful' };
  if (texts.length === 0 && resp === VDP22_RESP_NONE) return { kind: 'pending', code, text: 'No response from the bridge so far' };
  const timedOut = resp === 253 || ((resp === VDP22_RESP_NONE || resp === 0) && smi !== 0);
  return { kind: timedOut ? 'timeout' : 'rejected', code, text: text || `status ${code}` };
}
