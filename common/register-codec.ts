import { registerCount, type RegisterPoint } from './profiles.ts';

const buf = Buffer.alloc(4);

function swapBytes(word: number): number {
  return ((word & 0xff) << 8) | ((word >> 8) & 0xff);
}

/** Puts the registers of a point into `buf` in big-endian, high-word-first order. */
function toCanonical(words: readonly number[], p: RegisterPoint): void {
  const n = registerCount(p.type);
  const ws = words.slice(0, n).map((w) => (p.byteOrder === 'little' ? swapBytes(w) : w));
  if (n === 2 && p.wordOrder === 'low-first') ws.reverse();
  for (let i = 0; i < n; i++) buf.writeUInt16BE((ws[i] ?? 0) & 0xffff, i * 2);
}

/** Raw register value of a point (before scale and offset). `words` starts at the point's address. */
export function decodeRaw(words: readonly number[], p: RegisterPoint): number {
  if (p.type === 'bool') return words[0] ? 1 : 0;
  if (words.length < registerCount(p.type)) {
    throw new RangeError(`${p.metric}: ${p.type} needs ${registerCount(p.type)} registers, got ${words.length}`);
  }
  toCanonical(words, p);
  switch (p.type) {
    case 'int16':
      return buf.readInt16BE(0);
    case 'uint16':
      return buf.readUInt16BE(0);
    case 'int32':
      return buf.readInt32BE(0);
    case 'uint32':
      return buf.readUInt32BE(0);
    case 'float32':
      return buf.readFloatBE(0);
  }
}

/** Engineering value of a point: raw × scale + offset, rounded to drop float noise from the scale and from float32. */
export function decodeValue(words: readonly number[], p: RegisterPoint): number {
  let raw = decodeRaw(words, p);
  // A float32 carries about 7 significant decimal digits; the rest of its double is conversion noise (220.9470672607422 V).
  if (p.type === 'float32' && Number.isFinite(raw)) raw = Number(raw.toPrecision(7));
  if (p.scale === 1 && p.offset === 0) return raw;
  return Number((raw * p.scale + p.offset).toPrecision(12));
}

/** Registers (or a single bit for FC 1/2) that hold an engineering value; used by the simulators. */
export function encodeValue(value: number, p: RegisterPoint): number[] {
  if (p.type === 'bool') return [value ? 1 : 0];
  const raw = (value - p.offset) / p.scale;
  switch (p.type) {
    case 'int16':
      buf.writeInt16BE(clampInt(raw, -0x8000, 0x7fff), 0);
      break;
    case 'uint16':
      buf.writeUInt16BE(clampInt(raw, 0, 0xffff), 0);
      break;
    case 'int32':
      buf.writeInt32BE(clampInt(raw, -0x80000000, 0x7fffffff), 0);
      break;
    case 'uint32':
      buf.writeUInt32BE(clampInt(raw, 0, 0xffffffff), 0);
      break;
    case 'float32':
      buf.writeFloatBE(raw, 0);
      break;
  }
  const n = registerCount(p.type);
  const words: number[] = [];
  for (let i = 0; i < n; i++) words.push(buf.readUInt16BE(i * 2));
  if (n === 2 && p.wordOrder === 'low-first') words.reverse();
  return p.byteOrder === 'little' ? words.map(swapBytes) : words;
}

function clampInt(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(v)));
}
