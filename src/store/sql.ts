import type pg from 'pg';

/**
 * A statement written with named parameters (`:jobId`, `:at::timestamptz`), compiled once into pg's
 * positional form. Callers pass an object; the array that must line up with `$1, $2, …` is built here
 * and nowhere else, so adding a column never renumbers anything.
 */
export interface Statement<P extends string> {
  text: string;
  /** The parameters in the order the compiled text numbers them. */
  names: readonly P[];
  /** A query config for pg: named (prepared once per connection) when the statement has a name. */
  bind(values: Readonly<Record<P, unknown>>): pg.QueryConfig<unknown[]>;
}

/** `:name` not preceded by `:` (so `::type` casts stay casts) and not inside a quoted literal. */
const PARAMETER = /'(?:[^']|'')*'|(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

export function statement<P extends string = string>(text: string, name?: string): Statement<P> {
  const names: P[] = [];
  const compiled = text.replace(PARAMETER, (match, parameter: string | undefined) => {
    if (parameter === undefined) return match;
    let index = names.indexOf(parameter as P);
    if (index === -1) index = names.push(parameter as P) - 1;
    return `$${index + 1}`;
  });
  return {
    text: compiled,
    names,
    bind(values) {
      const ordered = names.map((parameter) => {
        if (!(parameter in values)) throw new Error(`statement parameter :${parameter} has no value`);
        return values[parameter];
      });
      return name === undefined
        ? { text: compiled, values: ordered }
        : { name, text: compiled, values: ordered };
    },
  };
}

/** A column of a table: its SQL name and type; the field is the key it is defined under. */
export interface Column {
  name: string;
  type: string;
}

export type Columns<F extends string> = Readonly<Record<F, Column>>;

/** `user_id, job_type, …` in the definition's order. */
export function columnList<F extends string>(columns: Columns<F>, fields = keysOf(columns)): string {
  return fields.map((field) => columns[field].name).join(', ');
}

/** `:userId::text, :jobType::integer, …`: typed named parameters, one per field, in the same order. */
export function parameterList<F extends string>(
  columns: Columns<F>,
  fields = keysOf(columns),
  prefix = '',
): string {
  return fields.map((field) => `:${prefix}${field}::${columns[field].type}`).join(', ');
}

/** `j.user_id AS "userId", …`: a row keyed by field, for `decode`. */
export function selectList<F extends string>(columns: Columns<F>, alias: string, fields = keysOf(columns)) {
  return fields.map((field) => `${alias}.${columns[field].name} AS "${field}"`).join(', ');
}

/** The definition's fields, typed. */
export function keysOf<F extends string>(columns: Columns<F>): F[] {
  return Object.keys(columns) as F[];
}

/** Values keyed `${prefix}${field}`, for parameters named by parameterList with the same prefix. */
export function prefixed<F extends string>(prefix: string, values: Readonly<Record<F, unknown>>) {
  return Object.fromEntries(Object.entries(values).map(([field, value]) => [`${prefix}${field}`, value]));
}
