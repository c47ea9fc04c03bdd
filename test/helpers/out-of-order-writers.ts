import pg from 'pg';

/**
 * Concurrent writers whose transactions take their id first and write later, pausing at random in
 * between, so that transaction ids, change ids and commits interleave across writers in every order:
 * what the change feed's visibility rule must survive. `write` runs inside each transaction and answers
 * whether to commit it (true) or roll it back.
 */
export async function writeOutOfOrder({
  url,
  writers,
  transactions,
  maxPauseMs,
  write,
}: {
  url: string;
  writers: number;
  transactions: number;
  maxPauseMs: number;
  write: (client: pg.Client, writer: number, transaction: number) => Promise<boolean>;
}): Promise<void> {
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * maxPauseMs));
  const writer = async (writerIndex: number) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let index = 0; index < transactions; index += 1) {
        await client.query('BEGIN');
        await client.query('SELECT pg_current_xact_id()');
        await pause();
        const commit = await write(client, writerIndex, index);
        await pause();
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, index) => writer(index)));
}
