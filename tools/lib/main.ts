/** How every tool's entry point ends on an error: one line on stderr naming the tool, and a non-zero exit. */

/** Runs `main`; when it rejects, prints `<tool>: <message>` to stderr and exits with `failureCode`. */
export function runMain(tool: string, main: () => Promise<void>, failureCode = 1): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${tool}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(failureCode);
  });
}
