/**
 * Puts zapier-platform-core in the mode it uses under a test runner. Import this before the
 * package.
 *
 * The runtime decides once, when it loads (src/constants.js, `IS_TESTING`), whether it runs under
 * tests: `mocha` or `jest` on the command line, or NODE_ENV starting with "test" (which jest sets
 * for its tests). Under `deno test` neither holds, so this sets NODE_ENV=test. Then, as under jest
 * or mocha:
 * - the output checks (a trigger returns an array of objects, …) throw a CheckError instead of
 *   only logging, so a broken trigger fails the suite;
 * - the memory line printed on every invocation for Zapier's monitoring
 *   (`ZID: … RSSMEM: …`, src/tools/memory-checker.js) stays off.
 * Zapier's documentation names no switch for either; this is the only one in the source.
 */
import process from "node:process";

if (!process.env.NODE_ENV?.startsWith("test")) process.env.NODE_ENV = "test";
