import { describe, expect, it } from 'vitest';
import { columnList, parameterList, prefixed, selectList, statement } from './sql.js';

describe('named statements', () => {
  it('numbers each named parameter once, in order of first use, and binds values by name', () => {
    const update = statement(
      'UPDATE jobs SET next_check_at = :at WHERE job_id = :jobId AND updated_at < :at',
    );
    expect(update.text).toBe('UPDATE jobs SET next_check_at = $1 WHERE job_id = $2 AND updated_at < $1');
    expect(update.bind({ jobId: 'job-1', at: 'then' }).values).toEqual(['then', 'job-1']);
  });

  it('leaves casts and quoted literals alone', () => {
    const query = statement("SELECT :at::timestamptz, ':notAParameter', 'it''s :fine' WHERE x = :x::int");
    expect(query.text).toBe("SELECT $1::timestamptz, ':notAParameter', 'it''s :fine' WHERE x = $2::int");
    expect(query.names).toEqual(['at', 'x']);
  });

  it('refuses to bind when a parameter has no value, rather than send null in its place', () => {
    const query = statement('SELECT :a, :b');
    expect(() => query.bind({ a: 1 } as never)).toThrow(':b has no value');
  });

  it('prepares a named statement under its name, and sends an unnamed one as it is', () => {
    expect(statement('SELECT :a', 'read-a').bind({ a: 1 })).toEqual({
      name: 'read-a',
      text: 'SELECT $1',
      values: [1],
    });
    expect(statement('SELECT :a').bind({ a: 1 })).toEqual({ text: 'SELECT $1', values: [1] });
  });
});

describe('lists from a table definition', () => {
  const columns = {
    jobId: { name: 'job_id', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz' },
  } as const;

  it('builds column, parameter and select lists in the same order from one definition', () => {
    expect(columnList(columns)).toBe('job_id, created_at');
    expect(parameterList(columns, undefined, 'new_')).toBe(':new_jobId::text, :new_createdAt::timestamptz');
    expect(selectList(columns, 'j')).toBe('j.job_id AS "jobId", j.created_at AS "createdAt"');
    expect(prefixed('new_', { jobId: 'a' })).toEqual({ new_jobId: 'a' });
  });

  it('binds a statement built from the lists with values keyed by field', () => {
    const insert = statement(`INSERT INTO jobs (${columnList(columns)}) VALUES (${parameterList(columns)})`);
    expect(insert.text).toBe('INSERT INTO jobs (job_id, created_at) VALUES ($1::text, $2::timestamptz)');
    expect(insert.bind({ createdAt: 'now', jobId: 'job-1' }).values).toEqual(['job-1', 'now']);
  });
});
