/** One JSON object per line; never a token, a secret or a payload (callers pass ids and figures). */
export type LogEntry = Record<string, string | number | boolean | null | undefined>;

export type Log = (entry: LogEntry) => void;

export const jsonLog: Log = (entry) => console.log(JSON.stringify(entry));
