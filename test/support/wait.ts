/**
 * Polls until check() answers something other than undefined, null or false, and returns it;
 * past the deadline it fails, naming what was awaited and (when given) what was seen last.
 * The one way tests wait for something asynchronous: no fixed sleeps.
 */
export async function waitUntil<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${options.detail ? `\n${options.detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
