// A small ASN.1 layer on Buffers: a BER reader (PKCS#12 files in the wild use indefinite lengths and
// chunked OCTET STRINGs: Java keytool, some HSM exports) and a DER writer for the files we produce.
// node-forge's ASN.1 works on binary strings and is loosely typed; PKCS#12 needs only this much.

export const TagClass = { universal: 0, application: 1, context: 2, private: 3 } as const;

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x10,
  set: 0x11,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
} as const;

/** Thrown for bytes that are not well-formed BER; callers turn it into PFX_UNREADABLE. */
export class Asn1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Asn1Error';
  }
}

export interface Asn1Node {
  tagClass: number;
  tagNumber: number;
  constructed: boolean;
  /** Content octets (for a constructed node with indefinite length: without the end-of-contents marker). */
  content: Buffer;
  /** The whole encoding, header included: lets a parsed certificate be handed on unchanged. */
  encoded: Buffer;
  children: Asn1Node[];
}

const maxDepth = 32;

/** Parses exactly one BER value that must fill `data` completely. */
export function parseAsn1(data: Buffer): Asn1Node {
  const { node, next } = readNode(data, 0, data.length, 0);
  if (next !== data.length) throw new Asn1Error(`${data.length - next} bytes left over after the ASN.1 value`);
  return node;
}

function readNode(data: Buffer, offset: number, limit: number, depth: number): { node: Asn1Node; next: number } {
  if (depth > maxDepth) throw new Asn1Error('ASN.1 nesting too deep');
  let pos = offset;
  const byteAt = (at: number): number => {
    if (at >= limit) throw new Asn1Error('ASN.1 value is truncated');
    return data[at] as number;
  };
  const first = byteAt(pos++);
  const tagClass = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let count = 0; ; count++) {
      if (count > 3) throw new Asn1Error('ASN.1 tag number too large');
      const b = byteAt(pos++);
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  const lengthByte = byteAt(pos++);
  const children: Asn1Node[] = [];
  if (lengthByte === 0x80) {
    if (!constructed) throw new Asn1Error('primitive ASN.1 value with indefinite length');
    const contentStart = pos;
    for (;;) {
      if (byteAt(pos) === 0 && byteAt(pos + 1) === 0) {
        const node: Asn1Node = {
          tagClass,
          tagNumber,
          constructed,
          content: data.subarray(contentStart, pos),
          encoded: data.subarray(offset, pos + 2),
          children,
        };
        return { node, next: pos + 2 };
      }
      const child = readNode(data, pos, limit, depth + 1);
      children.push(child.node);
      pos = child.next;
    }
  }
  let length = lengthByte;
  if (lengthByte > 0x80) {
    const lengthBytes = lengthByte & 0x7f;
    if (lengthBytes > 4) throw new Asn1Error('ASN.1 length too large');
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + byteAt(pos++);
  }
  const end = pos + length;
  if (end > limit) throw new Asn1Error('ASN.1 value is truncated');
  const content = data.subarray(pos, end);
  if (constructed) {
    let childPos = pos;
    while (childPos < end) {
      const child = readNode(data, childPos, end, depth + 1);
      children.push(child.node);
      childPos = child.next;
    }
  }
  return {
    node: { tagClass, tagNumber, constructed, content, encoded: data.subarray(offset, end), children },
    next: end,
  };
}

// ---- typed accessors: each names what it expected, so a broken file gives a readable reason ----

export function isUniversal(node: Asn1Node | undefined, tag: number): node is Asn1Node {
  return node !== undefined && node.tagClass === TagClass.universal && node.tagNumber === tag;
}

export function isContext(node: Asn1Node | undefined, tag: number): node is Asn1Node {
  return node !== undefined && node.tagClass === TagClass.context && node.tagNumber === tag;
}

export function expectSequence(node: Asn1Node | undefined, what: string): Asn1Node[] {
  if (!isUniversal(node, Tag.sequence) || !node.constructed) throw new Asn1Error(`${what}: expected a SEQUENCE`);
  return node.children;
}

export function expectSet(node: Asn1Node | undefined, what: string): Asn1Node[] {
  if (!isUniversal(node, Tag.set) || !node.constructed) throw new Asn1Error(`${what}: expected a SET`);
  return node.children;
}

export function expectOid(node: Asn1Node | undefined, what: string): string {
  if (!isUniversal(node, Tag.oid) || node.constructed) throw new Asn1Error(`${what}: expected an OBJECT IDENTIFIER`);
  return decodeOid(node.content);
}

/** Small non-negative INTEGERs only (versions, iteration counts, key lengths). */
export function expectSmallInteger(node: Asn1Node | undefined, what: string): number {
  if (!isUniversal(node, Tag.integer) || node.constructed || node.content.length === 0) {
    throw new Asn1Error(`${what}: expected an INTEGER`);
  }
  const bytes = node.content;
  if ((bytes[0] as number) & 0x80) throw new Asn1Error(`${what}: negative INTEGER`);
  let value = 0;
  for (const b of bytes) {
    value = value * 256 + b;
    if (value > Number.MAX_SAFE_INTEGER / 256) throw new Asn1Error(`${what}: INTEGER too large`);
  }
  return value;
}

/** OCTET STRING content, joining the chunks of a BER constructed OCTET STRING. */
export function expectOctets(node: Asn1Node | undefined, what: string): Buffer {
  return octetsOf(node, Tag.octetString, what);
}

/** Content of a node that carries octets under an IMPLICIT tag (e.g. [0] IMPLICIT OCTET STRING). */
export function implicitOctets(node: Asn1Node, what: string): Buffer {
  return octetsOf(node, undefined, what);
}

function octetsOf(node: Asn1Node | undefined, universalTag: number | undefined, what: string): Buffer {
  if (node === undefined) throw new Asn1Error(`${what}: missing OCTET STRING`);
  if (universalTag !== undefined && !isUniversal(node, universalTag)) {
    throw new Asn1Error(`${what}: expected an OCTET STRING`);
  }
  if (!node.constructed) return node.content;
  return Buffer.concat(node.children.map((child) => octetsOf(child, Tag.octetString, what)));
}

/** The single child of an EXPLICIT context tag [n]. */
export function explicitChild(node: Asn1Node | undefined, tag: number, what: string): Asn1Node {
  if (!isContext(node, tag) || !node.constructed || node.children.length !== 1) {
    throw new Asn1Error(`${what}: expected [${tag}] EXPLICIT`);
  }
  return node.children[0] as Asn1Node;
}

export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw new Asn1Error('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new Asn1Error('OBJECT IDENTIFIER arc too large');
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  if ((bytes[bytes.length - 1] as number) & 0x80) throw new Asn1Error('OBJECT IDENTIFIER is truncated');
  return arcs.join('.');
}

// ---- DER writer ----

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(identifier: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([identifier]), encodeLength(content.length), content]);
}

export const der = {
  sequence: (...children: Buffer[]): Buffer => tlv(0x30, Buffer.concat(children)),
  /** SET OF: DER wants the elements sorted by their encodings. */
  setOf: (...children: Buffer[]): Buffer => tlv(0x31, Buffer.concat([...children].sort(Buffer.compare))),
  oid: (dotted: string): Buffer => tlv(Tag.oid, encodeOid(dotted)),
  null: (): Buffer => Buffer.from([0x05, 0x00]),
  boolean: (value: boolean): Buffer => tlv(Tag.boolean, Buffer.from([value ? 0xff : 0x00])),
  integer: (value: number | Buffer): Buffer => tlv(Tag.integer, integerContent(value)),
  octetString: (bytes: Buffer): Buffer => tlv(Tag.octetString, bytes),
  /** BIT STRING from whole bytes; `unusedBits` are the trailing zero bits of the last byte. */
  bitString: (bytes: Buffer, unusedBits = 0): Buffer =>
    tlv(Tag.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes])),
  bmpString: (text: string): Buffer => tlv(Tag.bmpString, bmpBytes(text)),
  utf8String: (text: string): Buffer => tlv(Tag.utf8String, Buffer.from(text, 'utf8')),
  printableString: (text: string): Buffer => tlv(Tag.printableString, Buffer.from(text, 'latin1')),
  ia5String: (text: string): Buffer => tlv(Tag.ia5String, Buffer.from(text, 'latin1')),
  utcTime: (text: string): Buffer => tlv(Tag.utcTime, Buffer.from(text, 'latin1')),
  generalizedTime: (text: string): Buffer => tlv(Tag.generalizedTime, Buffer.from(text, 'latin1')),
  /** [n] EXPLICIT: a constructed context tag around one encoded value. */
  explicit: (tag: number, child: Buffer): Buffer => tlv(0xa0 | tag, child),
  /** [n] IMPLICIT on a constructed type (e.g. the attributes of a PrivateKeyInfo). */
  implicitConstructed: (tag: number, content: Buffer): Buffer => tlv(0xa0 | tag, content),
  /** [n] IMPLICIT on a primitive type (e.g. dNSName, iPAddress in a GeneralName). */
  implicitPrimitive: (tag: number, content: Buffer): Buffer => tlv(0x80 | tag, content),
};

function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => Number(arc));
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) {
    throw new Error(`not an OID: ${dotted}`);
  }
  const values = [(arcs[0] as number) * 40 + (arcs[1] as number), ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const value of values) {
    const chunk: number[] = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128))
      chunk.unshift(0x80 | (rest & 0x7f));
    bytes.push(...chunk);
  }
  return Buffer.from(bytes);
}

function integerContent(value: number | Buffer): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`unsupported INTEGER ${value}`);
    const list: number[] = [];
    for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) list.unshift(rest & 0xff);
    bytes = Buffer.from(list.length ? list : [0]);
  } else {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = value.subarray(start);
  }
  // Unsigned magnitude: a leading 1 bit would read as negative.
  return (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** BMPString / PKCS#12 password form: UTF-16 big-endian (surrogate pairs kept, as OpenSSL and Windows do). */
export function bmpBytes(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf16le');
  bytes.swap16();
  return bytes;
}

export function decodeBmp(bytes: Buffer): string {
  if (bytes.length % 2 !== 0) throw new Asn1Error('BMPString with an odd number of bytes');
  const copy = Buffer.from(bytes);
  copy.swap16();
  return copy.toString('utf16le');
}
