import { join } from "node:path";
import { PROJECT_ROOT } from "./postgres.ts";

/** What a running `deno task start` publishes for `deno task token` and for the next start. */
export interface StackState {
  apiUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  pids: number[];
}

export function stateDir(): string {
  return Deno.env.get("WUNDERTRE_LOCAL_DIR") ?? join(PROJECT_ROOT, ".local");
}

export const stateFile = () => join(stateDir(), "stack.json");

export async function readState(): Promise<StackState | null> {
  try {
    return JSON.parse(await Deno.readTextFile(stateFile()));
  } catch {
    return null;
  }
}

export async function writeState(state: StackState) {
  await Deno.writeTextFile(stateFile(), JSON.stringify(state, null, 2) + "\n");
}

export async function clearState() {
  await Deno.remove(stateFile()).catch(() => {});
}
