/** Hostile text: the characters that break parsers, databases, terminals and eyes. */
import fc from "fast-check";

/** NUL, lone surrogates, bidi controls, zero-width and other invisible or odd characters. */
export const HOSTILE_CHARS = [
  "\u0000",
  "\uD800",
  "\uDBFF",
  "\uDC00",
  "\uDFFF",
  "\uDFFF\uD800", // a reversed pair: two lone surrogates
  "\uD83D\uDE00", // a proper pair (😀)
  "\u202E", // RIGHT-TO-LEFT OVERRIDE
  "\u202D",
  "\u202B",
  "\u200F", // RIGHT-TO-LEFT MARK
  "\u200E",
  "\u2066",
  "\u2069",
  "\u200B", // ZERO WIDTH SPACE
  "\u200C",
  "\u200D",
  "\u2060",
  "\uFEFF",
  "\u00AD",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u00A0",
  "\u0301",
  "\u0007",
  "\u001B[31m",
  "\u007F",
  "\u009F",
  "\t",
  "\n",
  "\r\n",
  "\\",
  '"',
  "'",
  "%00",
  "%",
  "%ED%A0%80",
  "<script>",
  "${x}",
  "{{x}}",
  "𝕏",
  "\uFFFD",
  "\uFFFE",
  "\uFFFF",
  "\u0130",
  "ß",
  "ﬃ",
  "Ω",
];

/** A short string stitched from hostile characters and random (any code point) text. */
export const hostileString = (maxParts = 12): fc.Arbitrary<string> =>
  fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_CHARS) },
      { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
    ),
    { maxLength: maxParts },
  ).map((parts) => parts.join(""));

/** One character repeated, often right at the limits: 500 code points, 2,048 characters. */
export const hugeString: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom("a", "ab", "😀", "\u202E", "\u200B", "\u0301", "é", "\u0000", "\uD800", " "),
  fc.oneof(
    fc.constantFrom(250, 499, 500, 501, 1000, 2047, 2048, 2049),
    fc.integer({ min: 1, max: 40_000 }),
  ),
).map(([unit, count]) => unit.repeat(count));

/** Inserts `insert` into `text` at a position picked by `at`. */
export function insertAt(text: string, insert: string, at: number): string {
  const position = at % (text.length + 1);
  return text.slice(0, position) + insert + text.slice(position);
}

export type LiteralStyle = "plain" | "escaped" | "mixed";

/**
 * A JSON string literal for `value`, UTF-16 code unit by code unit, so lone surrogates survive:
 * plain (JSON.stringify), every unit as \uXXXX, or every other unit escaped.
 */
export function jsonStringLiteral(value: string, style: LiteralStyle = "plain"): string {
  if (style === "plain") return JSON.stringify(value);
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    out += style === "escaped" || i % 2 === 0
      ? `\\u${unit.toString(16).padStart(4, "0")}`
      : JSON.stringify(value[i]).slice(1, -1);
  }
  return out + '"';
}

export const literalStyle: fc.Arbitrary<LiteralStyle> = fc.constantFrom(
  "plain",
  "plain",
  "escaped",
  "mixed",
);

export function base64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Bytes that are never valid UTF-8: a stray continuation, overlong NUL, CESU-8 surrogate, … */
export const INVALID_UTF8: number[][] = [
  [0x80],
  [0xff],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
];
