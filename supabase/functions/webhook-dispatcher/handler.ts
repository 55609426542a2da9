/**
 * The function's one endpoint: POST (from pg_cron through pg_net, or the local scheduler) runs
 * the dispatcher once and answers with what it did. Only the service role may call it.
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { errorBody } from "../_shared/errors.ts";
import type { Log } from "../_shared/log.ts";
import { type DispatcherDependencies, runDispatcher } from "./dispatcher.ts";

export interface HandlerDependencies extends DispatcherDependencies {
  serviceRoleKey: string;
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Buffer> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Compares digests, so neither the key's length nor its content leaks through timing. */
async function isServiceRole(authorization: string | null, serviceRoleKey: string) {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
  if (!match) return false;
  return timingSafeEqual(await sha256(match[1]), await sha256(serviceRoleKey));
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

export function createDispatcherHandler(deps: HandlerDependencies, log: Log = deps.log) {
  return async (request: Request): Promise<Response> => {
    if (request.method !== "POST") {
      return json(405, errorBody("method_not_allowed", "Use POST to run the dispatcher."), {
        Allow: "POST",
      });
    }
    if (!(await isServiceRole(request.headers.get("authorization"), deps.serviceRoleKey))) {
      return json(
        401,
        errorBody("unauthorized", "The dispatcher runs only for the service role key."),
        { "WWW-Authenticate": "Bearer" },
      );
    }
    await request.body?.cancel();
    try {
      const summary = await runDispatcher(deps);
      // Idle runs (most of them, every 10 s) stay quiet.
      if (summary.claimed > 0 || summary.unrecorded > 0) {
        log({ level: "info", msg: "dispatcher run", ...summary });
      }
      return json(200, { data: summary });
    } catch (error) {
      log({ level: "error", msg: "dispatcher run failed", error: (error as Error)?.name });
      return json(500, errorBody("internal_error", "The dispatcher run failed; see its logs."));
    }
  };
}
