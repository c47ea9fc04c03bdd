import type { FastifyInstance } from 'fastify';
import { CodedError } from './coded-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Aborted as soon as the app starts closing. A handler that holds a request open (a long poll)
     * listens to it and answers at once with what it has, so shutdown never waits on it.
     */
    shuttingDown: AbortSignal;
  }
}

/**
 * What closing the app does to HTTP traffic. Node's server.close() ends connections idle at that moment,
 * but a keep-alive connection whose request is still in flight would stay open, idle, after its answer
 * until keepAliveTimeout, and shutdown would wait for it. So while closing, every answer carries
 * `Connection: close`, and connections left idle are closed as each request finishes. Requests that
 * arrive meanwhile on an open connection get our 503 (Fastify's own has another body shape).
 */
export function drainOnClose(app: FastifyInstance) {
  const closing = new AbortController();
  app.decorate('shuttingDown', closing.signal);

  app.addHook('preClose', async () => {
    closing.abort(new Error('the service is shutting down'));
  });

  app.addHook('onRequest', async () => {
    if (!closing.signal.aborted) return;
    throw new CodedError({ code: 'SHUTTING_DOWN' });
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing.signal.aborted && !reply.raw.headersSent) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async () => {
    if (!closing.signal.aborted) return;
    // After Node has marked the connection idle, which it does once the response is finished.
    setImmediate(() => app.server.closeIdleConnections());
  });
}
