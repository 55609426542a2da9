/** A Deno process of ours, fed a JSON spec on stdin, answering one JSON line. */
export async function runChild<T>(entry: string, spec: unknown, permissions: string[]): Promise<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, entry],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(spec)));
  await writer.close();
  const output = await child.output();
  if (!output.success) throw new Error(`${entry} failed`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}
