import type { Request } from 'autocannon';
import { countResponse, emptyTally, runLoadGenerator, warmUpAndMeasure } from '../shared/load-generator.js';
import type { LoadFigures } from '../shared/load-protocol.js';
import { benchJobId, randomJob } from './jobs.js';
import type { ApiLoadRequest, PathSource } from './scenarios.js';

/**
 * The API load generator (see shared/load-generator.ts): GET requests whose path is drawn at random for
 * each request, a job among the seeded ones or a page of a listing. Usage: forked by bench/api/main.ts
 * with an ApiLoadRequest in argv[2].
 */

function pathDrawer(source: PathSource): () => string {
  if (source.kind === 'job') {
    const query = source.query ? `?${source.query}` : '';
    return () => `/v1/jobs/${benchJobId(randomJob(source.jobs, source.withIdInfo))}${query}`;
  }
  // The first page, or a page after one of the sampled cursors.
  const paths = [
    `/v1/jobs?${source.query}`,
    ...source.cursors.map((cursor) => `/v1/jobs?${source.query}&cursor=${cursor}`),
  ];
  return () => paths[Math.floor(Math.random() * paths.length)]!;
}

runLoadGenerator(async (request: ApiLoadRequest): Promise<LoadFigures> => {
  const nextPath = pathDrawer(request.paths);
  let tally = emptyTally();
  const requests: Request[] = [
    {
      method: 'GET',
      headers: { authorization: `Bearer ${request.token}` },
      setupRequest: (params) => ({ ...params, path: nextPath() }),
      onResponse: (status, body) =>
        countResponse(tally, status, body, (text) => text.includes(request.expect)),
    },
  ];
  const window = await warmUpAndMeasure(request, requests, () => {
    tally = emptyTally();
  });
  return { ...window, ...tally };
});
