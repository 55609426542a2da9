/**
 * One dispatcher run: claim due deliveries, send them with a bounded number in flight, record
 * each attempt and schedule the next, until nothing is due or the time budget is nearly spent.
 * The next batch is claimed while the slots are still busy and waits for them, so the slots do
 * not idle through a claim's round trip. Claims keep coming while slow receivers hold their
 * slots, so one receiver never stalls the rest.
 */
import { StoreUnavailableError } from "../_shared/errors.ts";
import type { Log } from "../_shared/log.ts";
import { webhookPayload } from "../_shared/webhook-payload.ts";
import type { AttemptRecord, ClaimedDelivery, DeliveryStore } from "./delivery-store.ts";
import { parseRetryAfter, retryDelayMs } from "./retry-schedule.ts";
import type { AttemptResponse, Sender } from "./sender.ts";
import { signatureHeader } from "./signature.ts";

export const USER_AGENT = "WundertreOS-Webhooks/1.0";
/** The most attempts one record_webhook_attempts call takes. */
export const MAX_RECORDS_PER_CALL = 256;

export interface DispatchSettings {
  /** For the whole attempt (the contract's 15 s). */
  attemptTimeoutMs: number;
  /** Waits after each failed attempt, before jitter. */
  retryScheduleSeconds: number[];
  /** How long a claim holds a delivery; longer than an attempt, or two could send it at once. */
  leaseSeconds: number;
  /** A failure streak this long disables the subscription as failing (the contract's 5 days). */
  failingAfterSeconds: number;
  /** The run stops claiming when less than one attempt's timeout is left of this. */
  timeBudgetMs: number;
  maxInFlight: number;
  /** The most a claim takes at once. */
  batchSize: number;
  /** The most deliveries one subscription has in flight, over all dispatchers. */
  maxPerSubscription: number;
  /** How often to look for newly due deliveries while attempts are in flight. */
  pollIntervalMs: number;
  /**
   * The most a run claims: an edge function gets 2 s of CPU per request, and a delivery costs
   * the dispatcher about 0.25 ms of CPU here (docs/scaling.md).
   */
  maxDeliveriesPerRun: number;
}

export interface DispatcherDependencies {
  store: DeliveryStore;
  send: Sender;
  settings: DispatchSettings;
  clock: () => Date;
  /** In [0, 1), for the retry jitter. */
  random: () => number;
  log: Log;
}

export interface RunSummary {
  claimed: number;
  succeeded: number;
  retried: number;
  failed: number;
  gone: number;
  /** Attempts whose record did not land (lease lost, or the database away): sent again later. */
  unrecorded: number;
  /** The run stopped claiming at its cap (maxDeliveriesPerRun): more may be due, call again. */
  capped: boolean;
  duration_ms: number;
}

/** The body every attempt of a delivery carries, byte for byte. */
export function deliveryBody(delivery: ClaimedDelivery): string {
  return JSON.stringify(webhookPayload({
    id: delivery.eventId,
    type: delivery.eventType,
    createdAt: delivery.eventCreatedAt,
    workspaceId: delivery.workspaceId,
    data: delivery.data,
  }));
}

/** Signs the body for this attempt's timestamp and sends it. */
async function sendSigned(
  delivery: ClaimedDelivery,
  deps: DispatcherDependencies,
  body: string,
  timestamp: number,
): Promise<AttemptResponse> {
  return await deps.send({
    url: delivery.targetUrl,
    body,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": USER_AGENT,
      "webhook-id": delivery.eventId,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signatureHeader(
        delivery.secrets,
        delivery.eventId,
        timestamp,
        body,
      ),
    },
  });
}

async function attempt(
  delivery: ClaimedDelivery,
  deps: DispatcherDependencies,
): Promise<AttemptRecord> {
  const body = deliveryBody(delivery);
  const startedAt = deps.clock();
  const started = performance.now();
  const timestamp = Math.floor(startedAt.getTime() / 1000);
  const response = await sendSigned(delivery, deps, body, timestamp).catch(
    (error: unknown): AttemptResponse => {
      // A failure on our side (a bug, a missing permission): recorded and retried like any
      // other, so the schedule still runs out, and logged for us.
      deps.log({
        level: "error",
        msg: "delivery attempt crashed",
        delivery_id: delivery.deliveryId,
        error: (error as Error)?.name ?? "unknown",
      });
      return {
        status: null,
        errorKind: "internal_error",
        body: null,
        retryAfter: null,
        durationMs: Math.round(performance.now() - started),
      };
    },
  );
  const record: AttemptRecord = {
    delivery_id: delivery.deliveryId,
    lease_id: delivery.leaseId,
    attempt_number: delivery.attemptNumber,
    started_at: startedAt.toISOString(),
    duration_ms: response.durationMs,
    response_status: response.status,
    error_kind: response.errorKind,
    response_body: response.body,
    outcome: "succeeded",
    next_attempt_at: null,
  };
  if (response.errorKind === null) return record;
  if (response.status === 410) return { ...record, outcome: "gone" };
  const delay = retryDelayMs(
    delivery.attemptNumber,
    deps.settings.retryScheduleSeconds,
    deps.random,
    parseRetryAfter(response.retryAfter, deps.clock()),
  );
  if (delay === null) return { ...record, outcome: "failed" };
  return {
    ...record,
    outcome: "retry",
    next_attempt_at: new Date(deps.clock().getTime() + delay).toISOString(),
  };
}

export async function runDispatcher(deps: DispatcherDependencies): Promise<RunSummary> {
  const { settings, store, log } = deps;
  const started = deps.clock().getTime();
  const summary: RunSummary = {
    claimed: 0,
    succeeded: 0,
    retried: 0,
    failed: 0,
    gone: 0,
    unrecorded: 0,
    capped: false,
    duration_ms: 0,
  };
  const inFlight = new Set<Promise<void>>();
  let finished: AttemptRecord[] = [];
  // Set by every finished attempt and record: the loop looks again at once rather than at its
  // next poll, even when the signal came while it was busy with a claim.
  let signalled = false;
  let resolveWake: (() => void) | null = null;
  const wake = () => {
    signalled = true;
    resolveWake?.();
  };

  const start = (delivery: ClaimedDelivery) => {
    const task = attempt(delivery, deps).then(
      (record) => {
        finished.push(record);
        if (record.outcome !== "succeeded") {
          log({
            level: "info",
            msg: "delivery attempt failed",
            delivery_id: record.delivery_id,
            subscription_id: delivery.subscriptionId,
            attempt: record.attempt_number,
            status: record.response_status,
            error_kind: record.error_kind,
            outcome: record.outcome,
            duration_ms: record.duration_ms,
          });
        }
      },
      (error: unknown) => {
        // A bug of ours, not the receiver's: the lease runs out and the delivery goes again.
        summary.unrecorded++;
        log({
          level: "error",
          msg: "delivery attempt crashed",
          delivery_id: delivery.deliveryId,
          error: (error as Error)?.name ?? "unknown",
        });
      },
    ).finally(() => {
      inFlight.delete(task);
      wake();
    });
    inFlight.add(task);
  };

  /** Records what has finished, in one round trip; false when the database was not reached. */
  const flush = async (): Promise<boolean> => {
    if (finished.length === 0) return true;
    // Bounded, so that records piled up behind a slow flush cannot make one huge statement.
    const batch = finished.slice(0, MAX_RECORDS_PER_CALL);
    finished = finished.slice(MAX_RECORDS_PER_CALL);
    try {
      const recorded = await store.record(batch, settings.failingAfterSeconds);
      summary.unrecorded += batch.length - recorded;
      for (const record of batch) {
        const key = record.outcome === "retry" ? "retried" : record.outcome;
        summary[key]++;
      }
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        // Kept for the next flush; if the database stays away, the leases run out and the
        // deliveries are sent again (at least once).
        finished = batch.concat(finished);
        log({ level: "warn", msg: "attempt records not saved yet", error: error.message });
        return false;
      }
      // Refused, not lost in transit: trying the same batch again cannot help, and must not
      // hold up the records after it. Its deliveries go again when their leases end.
      summary.unrecorded += batch.length;
      log({ level: "error", msg: "attempt records refused", error: (error as Error).message });
    }
    return true;
  };
  // Recording runs beside claiming and sending, one flush at a time: waiting for each record
  // before the next claim would leave the slots idle for two round trips per loop.
  let flushing: Promise<void> | null = null;
  const flushBeside = () => {
    if (flushing || finished.length === 0) return;
    flushing = flush().then((saved) => {
      flushing = null;
      // After a failure the loop tries again on its own schedule, not in a tight loop.
      if (saved) wake();
    });
  };

  // Retention (30 days) rides along with the runs: one small batch each, every 10 s at most.
  try {
    const expired = await store.deleteExpired();
    if (expired > 0) log({ level: "info", msg: "expired events removed", events: expired });
  } catch (error) {
    log({ level: "warn", msg: "retention failed", error: (error as Error).message });
  }

  const timeLeft = () => settings.timeBudgetMs - (deps.clock().getTime() - started);
  // Claimed deliveries waiting for a slot: at most one batch beyond the slots, claimed while
  // they are busy. They start as slots free up, or anyway (at most one batch more in flight)
  // once waiting longer would let the run's budget or the delivery's lease end before its
  // attempt could: none waits behind slow receivers past either.
  const waiting: { delivery: ClaimedDelivery; startBy: number }[] = [];
  const mayWaitMs = settings.leaseSeconds * 1000 - settings.attemptTimeoutMs - 5000;
  const startWaiting = () => {
    const now = deps.clock().getTime();
    const budgetEnding = timeLeft() < settings.attemptTimeoutMs;
    while (
      waiting.length > 0 &&
      (inFlight.size < settings.maxInFlight || budgetEnding || waiting[0].startBy <= now)
    ) {
      start(waiting.shift()!.delivery);
    }
  };
  const capacity = settings.maxInFlight + settings.batchSize;
  // Claim when a whole batch fits beside what is in flight or waiting: whole batches cost the
  // fewest claims per delivery, and one waiting batch keeps the slots busy through the next
  // claim's round trip (docs/performance.md).
  const claimWhenRoom = Math.max(1, settings.batchSize);
  let lastClaim = -Infinity;
  let storeDown = false;
  while (true) {
    startWaiting();
    const left = settings.maxDeliveriesPerRun - summary.claimed;
    summary.capped = left <= 0;
    const mayClaim = !storeDown && left > 0 && timeLeft() > settings.attemptTimeoutMs + 1000;
    const room = capacity - inFlight.size - waiting.length;
    const asked = Math.min(room, settings.batchSize, left);
    let claimedNow = 0;
    // Room for a batch, or nothing in flight, or a poll interval since the last claim: slots
    // held by slow receivers must not keep due work waiting on the rest.
    const worthClaiming = room >= claimWhenRoom || inFlight.size === 0 ||
      performance.now() - lastClaim >= settings.pollIntervalMs;
    if (mayClaim && asked > 0 && worthClaiming) {
      lastClaim = performance.now();
      try {
        const claimed = await store.claim({
          maxDeliveries: asked,
          leaseSeconds: settings.leaseSeconds,
          maxPerSubscription: settings.maxPerSubscription,
        });
        claimedNow = claimed.length;
        summary.claimed += claimed.length;
        const startBy = deps.clock().getTime() + mayWaitMs;
        for (const delivery of claimed) waiting.push({ delivery, startBy });
        startWaiting();
      } catch (error) {
        storeDown = true;
        log({ level: "warn", msg: "claim failed", error: (error as Error).message });
      }
    }
    flushBeside();
    if (inFlight.size === 0 && waiting.length === 0 && claimedNow === 0) break;
    // A full batch suggests more is due: claim again at once while a batch fits.
    if (claimedNow > 0 && claimedNow === asked && room - claimedNow >= claimWhenRoom) continue;
    if (!signalled) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        resolveWake = resolve;
        timer = setTimeout(resolve, settings.pollIntervalMs);
      });
      clearTimeout(timer);
      resolveWake = null;
    }
    signalled = false;
  }
  await Promise.all(inFlight);
  await flushing;
  while (finished.length > 0 && await flush());
  if (finished.length > 0) {
    summary.unrecorded += finished.length;
  }
  summary.duration_ms = deps.clock().getTime() - started;
  return summary;
}
