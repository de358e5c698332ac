import * as crypto from 'node:crypto';
import * as net from 'node:net';

/**
 * A self-signed certificate for the simulator's TLS when no certificate is given, made with Node's crypto
 * only (Node has no API that writes certificates, and the openssl command is not everywhere): an X.509 v3
 * certificate (RFC 5280) in DER (ITU-T X.690), an ECDSA P-256 key, signed with SHA-256 (RFC 5758).
 */
export interface SelfSignedCertificate {
  /** The certificate, PEM: the server's and the one a client trusts. */
  cert: string;
  /** Its private key, PKCS #8 PEM. */
  key: string;
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const length: number[] = [];
  for (let n = body.length; n > 0; n = Math.floor(n / 256)) length.unshift(n % 256);
  const head = body.length < 0x80 ? [body.length] : [0x80 | length.length, ...length];
  return Buffer.concat([Buffer.from([tag, ...head]), body]);
}

const sequence = (...content: Buffer[]) => der(0x30, ...content);

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first! + second!];
  for (const value of rest) {
    const chunk = [value & 0x7f];
    for (let v = value >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

// RFC 5280 4.1.2.5: UTCTime up to 2049, GeneralizedTime from 2050.
function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(digits.slice(2))) : der(0x18, Buffer.from(digits));
}

function subjectAltName(names: string[]): Buffer {
  // GeneralName (RFC 5280 4.2.1.6): [2] dNSName, [7] iPAddress (4 or 16 bytes).
  const entries = names.map((name) => {
    if (net.isIPv4(name)) return der(0x87, Buffer.from(name.split('.').map(Number)));
    if (net.isIPv6(name)) return der(0x87, ipv6Bytes(name));
    return der(0x82, Buffer.from(name, 'ascii'));
  });
  return sequence(...entries);
}

/** The 16 bytes of an IPv6 address in text (RFC 4291 2.2: "::" and a trailing dotted IPv4 part). */
function ipv6Bytes(address: string): Buffer {
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = v4
    ? address.slice(0, v4.index) +
      [
        [v4[1], v4[2]],
        [v4[3], v4[4]],
      ]
        .map(([hi, lo]) => ((Number(hi) << 8) | Number(lo)).toString(16))
        .join(':')
    : address;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/**
 * Makes a self-signed certificate for `names` (host names and IP addresses; the first is the common name),
 * valid from an hour ago (clocks differ) for `days`. It is its own CA, as `openssl req -x509` makes them,
 * so a client trusts exactly this certificate.
 */
export function selfSignedCertificate(names: string[], days = 365): SelfSignedCertificate {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const name = sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(names[0]!, 'utf8')))));
  // A positive serial of 16 random bytes whose first byte is neither 0 nor above 0x7f (X.690 8.3.2).
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const now = Date.now();
  const extension = (id: string, critical: boolean, value: Buffer) =>
    sequence(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // version 3
    der(0x02, serial),
    ecdsaWithSha256,
    name,
    sequence(time(new Date(now - 3600_000)), time(new Date(now + days * 86400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      sequence(
        extension('2.5.29.19', true, sequence(der(0x01, Buffer.from([0xff])))), // basicConstraints: CA
        extension('2.5.29.17', false, subjectAltName(names)),
      ),
    ),
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature));
  const lines = certificate.toString('base64').match(/.{1,64}/g)!;
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
