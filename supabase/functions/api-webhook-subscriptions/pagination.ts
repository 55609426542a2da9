import { z } from "zod";
import { invalidRequest } from "../_shared/errors.ts";
import type { ListPosition } from "../_shared/subscription-store.ts";
import { isUuid } from "../_shared/uuid.ts";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const LIMIT_RULE = `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}.`;

/** The query parameters every list shares: newest first, `limit` at a time, after `cursor`. */
export const pageQueryFields = {
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, { error: LIMIT_RULE })
    .transform(Number)
    .pipe(z.number().min(1, { error: LIMIT_RULE }).max(MAX_PAGE_SIZE, { error: LIMIT_RULE }))
    .optional()
    .meta({ description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "next_cursor from the previous page." }),
};

/** A page's body: the items, whether more follow, and the cursor of the next page. */
export function page<T extends { createdAt: string; id: string }, R>(
  records: T[],
  hasMore: boolean,
  resource: (record: T) => R,
) {
  const last = records.at(-1);
  return {
    data: records.map(resource),
    has_more: hasMore,
    next_cursor: hasMore && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
  };
}

/** The schema of a page of `item`s. */
export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  });

// Opaque to clients; inside, the sort key of the last row of the page: created_at to the
// microsecond as Postgres gives it, and the id as a tie-breaker.
// PostgREST writes timestamptz in the database's time zone: "+00:00" on Supabase unless changed,
// so any offset Postgres accepts (up to ±15:59) may appear. A cursor only ever holds what it wrote.
const CREATED_AT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](?:0\d|1[0-5]):[0-5]\d)$/;

/** A shape check is not enough: Postgres refuses month 25 or year 0 (a 500 if it got that far). */
function isRealTimestamp(value: string): boolean {
  const parts = CREATED_AT.exec(value);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
}

export function encodeCursor(position: ListPosition): string {
  const json = JSON.stringify([position.createdAt, position.id]);
  return btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function invalidCursor() {
  return invalidRequest("Invalid query: check cursor.", [
    { field: "cursor", message: "cursor must be the next_cursor of a previous page." },
  ]);
}

/** Decodes a cursor, refusing anything but the exact shapes `encodeCursor` produces. */
export function decodeCursor(cursor: string): ListPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    throw invalidCursor();
  }
  if (
    !Array.isArray(decoded) || decoded.length !== 2 ||
    typeof decoded[0] !== "string" || !isRealTimestamp(decoded[0]) ||
    typeof decoded[1] !== "string" || !isUuid(decoded[1])
  ) {
    throw invalidCursor();
  }
  return { createdAt: decoded[0], id: decoded[1] };
}
