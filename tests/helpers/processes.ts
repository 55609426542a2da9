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

export async function runShell(script: string): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command("bash", { args: ["-c", script], stdin: "null" }).output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}
