// Typed access to node-forge's ASN.1 nodes (forge types a node's value as `string | Asn1[]` and works on
// binary strings), plus the few constructors the Windows PFX needs. Parsing and encoding are forge's.
import forge from 'node-forge';

export type Asn1 = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

/** Bytes that are not the expected ASN.1: callers turn it into PFX_UNREADABLE. */
export class Asn1ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Asn1ShapeError';
  }
}

/** Parses one BER/DER value that must fill `bytes` completely, with forge's errors made readable. */
export function parseDer(bytes: Buffer | string): Asn1 {
  try {
    return forge.asn1.fromDer(typeof bytes === 'string' ? bytes : bytes.toString('binary'), true);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.startsWith('Too few bytes')) throw new Asn1ShapeError('an ASN.1 value is truncated');
    if (message.startsWith('Unparsed DER bytes')) throw new Asn1ShapeError('bytes are left over after the ASN.1 value');
    throw new Asn1ShapeError(message);
  }
}

export function toBuffer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

export function childrenOf(node: Asn1 | undefined, what: string): Asn1[] {
  if (node === undefined || !Array.isArray(node.value))
    throw new Asn1ShapeError(`${what}: expected a constructed value`);
  return node.value;
}

function primitive(node: Asn1 | undefined, type: number, what: string): string {
  if (node?.tagClass !== Class.UNIVERSAL || node.type !== type || typeof node.value !== 'string') {
    throw new Asn1ShapeError(`${what}: expected ASN.1 type ${type}`);
  }
  return node.value;
}

export function oidOf(node: Asn1 | undefined, what: string): string {
  return forge.asn1.derToOid(primitive(node, Type.OID, what));
}

/** A non-negative INTEGER (beyond 2^53 approximate: callers only cap such values). */
export function integerOf(node: Asn1 | undefined, what: string): number {
  const bytes = primitive(node, Type.INTEGER, what);
  if (bytes.length === 0 || bytes.charCodeAt(0) & 0x80)
    throw new Asn1ShapeError(`${what}: expected a positive INTEGER`);
  return Number(BigInt(`0x${forge.util.bytesToHex(bytes)}`));
}

/** OCTET STRING content as a binary string; BER may split it into chunks. */
export function octetsOf(node: Asn1 | undefined, what: string): string {
  if (node !== undefined && Array.isArray(node.value) && node.type === Type.OCTETSTRING) {
    return node.value.map((chunk) => octetsOf(chunk, what)).join('');
  }
  return primitive(node, Type.OCTETSTRING, what);
}

/** The element inside an [n] EXPLICIT tag. */
export function explicitChild(node: Asn1 | undefined, tag: number, what: string): Asn1 {
  const [child] = node?.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag ? childrenOf(node, what) : [];
  if (child === undefined) throw new Asn1ShapeError(`${what}: expected [${tag}] EXPLICIT`);
  return child;
}

const create = (type: number, value: string | Asn1[]): Asn1 =>
  forge.asn1.create(Class.UNIVERSAL, type, Array.isArray(value), value);

/** DER constructors (binary strings in, forge nodes out). */
export const der = {
  sequence: (...children: Asn1[]): Asn1 => create(Type.SEQUENCE, children),
  /** SET OF in DER order (sorted by encoding). */
  setOf: (...children: Asn1[]): Asn1 =>
    create(
      Type.SET,
      [...children].sort((a, b) => Buffer.compare(toBuffer(a), toBuffer(b))),
    ),
  oid: (dotted: string): Asn1 => create(Type.OID, forge.asn1.oidToDer(dotted).getBytes()),
  integer: (value: number): Asn1 => create(Type.INTEGER, forge.asn1.integerToDer(value).getBytes()),
  null: (): Asn1 => create(Type.NULL, ''),
  octetString: (bytes: Buffer | string): Asn1 =>
    create(Type.OCTETSTRING, typeof bytes === 'string' ? bytes : bytes.toString('binary')),
  /** BIT STRING: the unused-bits count, then the bytes. */
  bitString: (unusedBits: number, ...bytes: number[]): Asn1 =>
    create(Type.BITSTRING, String.fromCharCode(unusedBits, ...bytes)),
  bmpString: (text: string): Asn1 => create(Type.BMPSTRING, text),
  /** [n] EXPLICIT, or [n] IMPLICIT on a constructed type. */
  context: (tag: number, ...children: Asn1[]): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, children),
  /** [n] IMPLICIT on a primitive type. */
  contextPrimitive: (tag: number, bytes: string): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, false, bytes),
};
