import type { Request } from 'autocannon';
import { signedHeaders } from '../../src/notify/signing.js';
import { countResponse, emptyTally, runLoadGenerator, warmUpAndMeasure } from '../shared/load-generator.js';
import type { LoadFigures } from '../shared/load-protocol.js';
import { BASELINE_ID_PREFIX, type BaselineRequest, RECEIVER_PATHS } from './protocol.js';

/**
 * The baseline of bench:notify (see shared/load-generator.ts): the receiver's raw capacity. A plain
 * HTTP client POSTs bodies the service sent, each signed afresh with the service's own signing code and
 * a new webhook-id, over as many connections as the service delivers at once. Usage: forked by
 * bench/notify/run.ts with a BaselineRequest in argv[2].
 */

runLoadGenerator(async (request: BaselineRequest): Promise<LoadFigures> => {
  let sent = 0;
  let tally = emptyTally();
  const requests: Request[] = [
    {
      method: 'POST',
      path: RECEIVER_PATHS.webhooks,
      setupRequest: (params) => {
        sent += 1;
        const payload = request.payloads[sent % request.payloads.length]!;
        const id = `${BASELINE_ID_PREFIX}${sent}`;
        return {
          ...params,
          body: payload,
          headers: {
            'content-type': 'application/json',
            ...signedHeaders(request.secret, id, payload, new Date()),
          },
        };
      },
      onResponse: (status, body) => countResponse(tally, status, body, () => true),
    },
  ];
  const window = await warmUpAndMeasure(request, requests, () => {
    tally = emptyTally();
  });
  return { ...window, ...tally };
});
