import { ERRORS, type ErrorCode, type ErrorDefinition } from './error-catalog.js';

export type { ErrorCode } from './error-catalog.js';

type Definitions = typeof ERRORS;

/** The variants of a status or message given as a table; none for a single value or a function. */
type TableKeys<T> = T extends number | string | ((values: never) => string) ? never : keyof T;
type VariantOf<D extends ErrorDefinition> = TableKeys<D['status']> | TableKeys<D['message']>;
type ValuesOf<D extends ErrorDefinition> = D['message'] extends (values: infer V) => string ? V : unknown;
type WithVariant<D extends ErrorDefinition> = [VariantOf<D>] extends [never]
  ? unknown
  : { readonly variant: VariantOf<D> };

/**
 * What a flow or a route refuses with: a code of the catalog, its variant when the code has several,
 * and the values its message names; checked at compile time against the catalog. A pure layer returns
 * objects of this shape without importing it.
 */
export type Refusal = {
  [C in ErrorCode]: { readonly code: C } & ValuesOf<Definitions[C]> & WithVariant<Definitions[C]>;
}[ErrorCode];

/** What the caller gets: the status, the body's code and message, and headers. */
export interface Answer {
  status: number;
  code: ErrorCode;
  message: string;
  headers: Readonly<Record<string, string>>;
}

/** A refusal as HTTP, from the catalog alone. */
export function answerTo(refusal: Refusal): Answer {
  const definition: ErrorDefinition = ERRORS[refusal.code];
  const variant = 'variant' in refusal ? refusal.variant : '';
  const status = typeof definition.status === 'number' ? definition.status : definition.status[variant];
  const message =
    typeof definition.message === 'string'
      ? definition.message
      : typeof definition.message === 'function'
        ? definition.message(refusal as never)
        : definition.message[variant];
  // The types rule this out; should a cast slip one through, it is a fault, not the caller's.
  if (status === undefined || message === undefined) return answerTo({ code: 'INTERNAL_ERROR' });
  const retryAfter = definition.retryAfterSeconds;
  const headers: Record<string, string> =
    retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  return { status, code: refusal.code, message, headers };
}

/** When a code is answered, and with which Retry-After: its row in docs/api.md#errors. */
export function whenOf(code: ErrorCode): string {
  const { when, retryAfterSeconds } = ERRORS[code] as ErrorDefinition;
  return retryAfterSeconds === undefined ? when : `${when}; sent with \`Retry-After: ${retryAfterSeconds}\``;
}

/** The statuses a code can be answered with, for documentation. */
export function statusesOf(code: ErrorCode): number[] {
  const { status } = ERRORS[code] as ErrorDefinition;
  return typeof status === 'number' ? [status] : [...new Set(Object.values(status))].sort((a, b) => a - b);
}

/**
 * The one error a flow or route throws to refuse a request, in the spirit of `@fastify/error`: it
 * names a code of the catalog and never a status, which the error handler (errors.ts) looks up.
 */
export class CodedError extends Error {
  readonly code: ErrorCode;

  constructor(
    readonly refusal: Refusal,
    options?: ErrorOptions,
  ) {
    super(answerTo(refusal).message, options);
    this.name = 'CodedError';
    this.code = refusal.code;
  }
}
