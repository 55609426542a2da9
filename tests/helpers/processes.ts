// deno-lint-ignore-file no-explicit-any -- runCurl returns whatever JSON the server sent
/** Runs the project's own commands the way a person would, from the project root. */
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs a curl command exactly as printed (in a README, a banner or the contract) through bash and
 * returns the HTTP status and the parsed JSON body.
 */
export async function runCurl(command: string): Promise<{ status: string; body: any }> {
  const output = await new Deno.Command("bash", {
    args: ["-c", `${command} --silent --show-error --write-out '\\n%{http_code}'`],
    stdin: "null",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const [body, status] = new TextDecoder().decode(output.stdout).trimEnd().split(/\n?(?=\d{3}$)/);
  return { status, body: body ? JSON.parse(body) : null };
}

/** The first curl command in a text, from `curl -X POST` to the closing `}'` of its body. */
export function curlCommandIn(text: string): string {
  const start = text.indexOf("curl -X POST");
  const end = text.indexOf("}'", start) + 2;
  if (start < 0 || end < start + 2) throw new Error("no curl command found");
  return text.slice(start, end);
}
