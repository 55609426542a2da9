import { ApiError } from "../_shared/errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

function isJsonContentType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [mediaType, ...parameters] = contentType.split(";").map((part) => part.trim());
  if (!JSON_MEDIA_TYPE.test(mediaType)) return false;
  const charset = parameters.find((p) => p.toLowerCase().startsWith("charset="));
  return !charset || /^charset="?utf-8"?$/i.test(charset);
}

function tooLarge(): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `The request body must be at most ${MAX_BODY_BYTES} bytes.`,
    { max_bytes: MAX_BODY_BYTES },
  );
}

/** Reads at most MAX_BODY_BYTES, whether or not the client sent Content-Length, and stops there. */
async function readLimited(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  // A declared length within the limit is what the server will deliver: read it in one go.
  if (declared !== null && /^[0-9]+$/.test(declared)) {
    return new Uint8Array(await request.arrayBuffer());
  }

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The parsed JSON body, or the 415 / 413 / 400 that explains why there is none. */
export async function readJsonBody(request: Request): Promise<unknown> {
  if (!isJsonContentType(request.headers.get("content-type"))) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Send the request body as JSON with 'Content-Type: application/json'.",
    );
  }
  const bytes = await readLimited(request);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_request", "The request body is not valid UTF-8.");
  }
  if (text.trim() === "") {
    throw new ApiError(400, "invalid_request", "The request body is empty; send a JSON object.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_request", "The request body is not valid JSON.");
  }
}
