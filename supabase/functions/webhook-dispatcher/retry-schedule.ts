/** The contract's waits after each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** The longest wait a receiver's Retry-After can ask for; longer asks are cut to this. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

/**
 * How long to wait after failed attempt `attemptNumber` (1-based), in milliseconds, or null when
 * it was the last: the schedule's step with ±20% jitter, or the receiver's Retry-After when it asks
 * for longer.
 */
export function retryDelayMs(
  attemptNumber: number,
  scheduleSeconds: readonly number[],
  random: () => number,
  retryAfterSeconds: number | null,
): number | null {
  if (attemptNumber > scheduleSeconds.length) return null;
  const jittered = scheduleSeconds[attemptNumber - 1] * 1000 * (0.8 + 0.4 * random());
  if (retryAfterSeconds === null) return Math.round(jittered);
  return Math.round(
    Math.max(jittered, Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) * 1000),
  );
}

// RFC 9110's preferred date form, e.g. "Thu, 03 Dec 2026 00:01:30 GMT"; Date.parse alone would
// also read "1.5" or "-5" as dates.
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** A Retry-After header's wait in seconds (delay-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^[0-9]{1,10}$/.test(text)) return Number(text);
  if (!HTTP_DATE.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
