import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the production image', () => {
  it('compiles no simulator, benchmark or test code into dist/, and still compiles every entry point', () => {
    const files = execFileSync(
      path.join(ROOT, 'node_modules/.bin/tsc'),
      ['-p', 'tsconfig.build.json', '--listFilesOnly'],
      { cwd: ROOT, encoding: 'utf8' },
    )
      .split('\n')
      .filter((file) => file.startsWith(ROOT))
      .map((file) => path.relative(ROOT, file));
    const unwanted = files.filter((file) =>
      /^(?:src\/simulator\/|src\/cli\/simulat|test\/|bench\/)|\.test\.ts$/.test(file),
    );
    expect(unwanted).toEqual([]);
    const entries = [
      'src/main.ts',
      'src/dev.ts',
      'src/cli/migrate.ts',
      'src/cli/reencrypt.ts',
      'src/cli/policy-check.ts',
    ];
    for (const entry of entries) {
      expect(files).toContain(entry);
    }
  });

  it("copies only dist/, the migrations, the policies and the production dependencies into the Dockerfile's final stage", () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copied = [...finalStage.matchAll(/^COPY\s+(?:--from=\S+\s+)?(.+?)\s+\S+$/gm)].map(
      ([, sources]) => sources,
    );
    expect(copied).toEqual(['package.json package-lock.json', '/app/dist', 'prisma', 'policies']);
    expect(finalStage).toMatch(/npm ci --omit=dev/);
  });
});
