/** Fills a new buffer with `length` bytes; injected so tests can make secrets predictable. */
export type RandomSource = (length: number) => Uint8Array;

export const cryptoRandom: RandomSource = (length) =>
  crypto.getRandomValues(new Uint8Array(length));

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** The secret that signs every delivery: 32 random bytes, lowercase hex. */
export function generateSigningSecret(random: RandomSource): string {
  return toHex(random(32));
}
