/** Waiting in the reliability tests: a plain delay, and polling for a condition with a time limit. */

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `predicate` holds (checked every 20 ms); false after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) return false;
    await delay(20);
  }
  return true;
}
