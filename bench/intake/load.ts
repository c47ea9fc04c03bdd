import type { Request } from 'autocannon';
import { countResponse, emptyTally, runLoadGenerator, warmUpAndMeasure } from '../shared/load-generator.js';
import type { LoadReport, LoadRequest } from '../shared/load-protocol.js';
import { createBodySource } from './bodies.js';

/**
 * The intake load generator (see shared/load-generator.ts): it builds its bodies before the clock starts
 * and posts a callback for a job never seen before with every request. Usage: forked by
 * bench/intake/main.ts with a LoadRequest in argv[2].
 */

runLoadGenerator(async (request: LoadRequest): Promise<LoadReport> => {
  // The same body source serves warm-up and window, so the window repeats no job id from the warm-up.
  const nextBody = createBodySource(request.kind, request);
  let tally = emptyTally();
  let accepted = 0;
  let duplicates = 0;
  const requests: Request[] = [
    {
      method: 'POST',
      path: '/callbacks/smile-id',
      headers: { 'content-type': 'application/json' },
      setupRequest: (params) => ({ ...params, body: nextBody() }),
      onResponse: (status, body) => {
        const isAccepted = body.includes('"status":"accepted"');
        const isDuplicate = body.includes('"status":"duplicate"');
        countResponse(tally, status, body, () => isAccepted || isDuplicate);
        if (status >= 200 && status <= 299 && isAccepted) accepted += 1;
        else if (status >= 200 && status <= 299 && isDuplicate) duplicates += 1;
      },
    },
  ];
  const window = await warmUpAndMeasure(request, requests, () => {
    tally = emptyTally();
    accepted = 0;
    duplicates = 0;
  });
  return { ...window, ...tally, accepted, duplicates };
});
