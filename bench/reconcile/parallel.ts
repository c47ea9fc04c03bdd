/**
 * Calls `task` for every item with at most `concurrency` calls in flight, and fails with the first
 * error. Enough to set up thousands of jobs over HTTP quickly without opening thousands of sockets.
 */
export async function forEachInParallel<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
