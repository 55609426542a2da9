/**
 * The function's one endpoint: POST (from pg_cron through pg_net, or the local scheduler) runs
 * the dispatcher once and answers with what it did. Only the service role may call it.
 */
import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";
import { errorBody } from "../_shared/errors.ts";
import { sha256Hex } from "../_shared/digest.ts";
import { type DispatcherDependencies, runDispatcher } from "./dispatcher.ts";

export interface HandlerDependencies extends DispatcherDependencies {
  serviceRoleKey: string;
}

/** Compares digests, so neither the key's length nor its content leaks through timing. */
function serviceRoleCheck(serviceRoleKey: string) {
  const expected = sha256Hex(serviceRoleKey).then((hex) => Buffer.from(hex, "hex"));
  return async (authorization: string | null): Promise<boolean> => {
    const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
    if (!match) return false;
    return timingSafeEqual(Buffer.from(await sha256Hex(match[1]), "hex"), await expected);
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}

export function createDispatcherHandler(deps: HandlerDependencies) {
  const { log } = deps;
  const isServiceRole = serviceRoleCheck(deps.serviceRoleKey);
  return async (request: Request): Promise<Response> => {
    if (request.method !== "POST") {
      return json(405, errorBody("method_not_allowed", "Use POST to run the dispatcher."), {
        Allow: "POST",
      });
    }
    if (!(await isServiceRole(request.headers.get("authorization")))) {
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
