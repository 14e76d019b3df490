/** How every tool's entry point ends on an error: one line on stderr naming the tool, and a non-zero exit. */

/** Runs `main`; when it rejects, prints `<tool>: <message>` to stderr and exits with `failureCode`. */
export function runMain(tool: string, main: () => Promise<void>, failureCode = 1): void {
  main().catch((err: unknown) => {
    // A programming error keeps its stack: the message alone would not say where it came from.
    const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
    process.stderr.write(`${tool}: ${err instanceof Error ? (bug ? (err.stack ?? err.message) : err.message) : String(err)}\n`);
    process.exit(failureCode);
  });
}
