import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

interface Module {
  /** Path under src/, e.g. `domain/merge.ts`. */
  file: string;
  /** Top-level folder under src/ (`.` for src/ itself). */
  folder: string;
  text: string;
  /** Every import specifier, resolved under src/ when relative. */
  imports: string[];
}

function modules(): Module[] {
  const found: Module[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') walk(full);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const file = path.relative(SRC, full);
        const text = readFileSync(full, 'utf8');
        const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map(([, specifier]) =>
          specifier!.startsWith('.')
            ? path.relative(SRC, path.resolve(path.dirname(full), specifier!))
            : specifier!,
        );
        found.push({ file, folder: file.includes('/') ? file.split('/')[0]! : '.', text, imports });
      }
    }
  };
  walk(SRC);
  return found;
}

const all = modules();
const inFolder = (folder: string) => all.filter((module) => module.folder === folder);
const folderOf = (resolved: string) => (resolved.includes('/') ? resolved.split('/')[0]! : '.');

describe('the shape of src/', () => {
  it('keeps the domain core pure: it imports only itself and node:crypto, never a framework or I/O', () => {
    const outside = inFolder('domain').flatMap((module) =>
      module.imports
        .filter((target) => !(target.startsWith('domain/') || target === 'node:crypto'))
        .map((target) => `${module.file} → ${target}`),
    );
    expect(outside).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const module of all) {
      for (const target of module.imports.filter((specifier) => !specifier.startsWith('node:'))) {
        if (target.startsWith('..') || !target.endsWith('.js')) continue;
        const to = folderOf(target);
        if (to !== module.folder && module.folder !== '.' && to !== '.') {
          edges.set(module.folder, (edges.get(module.folder) ?? new Set()).add(to));
        }
      }
    }
    const cycles: string[] = [];
    const visit = (folder: string, trail: string[]) => {
      for (const next of edges.get(folder) ?? []) {
        if (trail.includes(next)) cycles.push([...trail.slice(trail.indexOf(next)), next].join(' → '));
        else visit(next, [...trail, next]);
      }
    };
    for (const folder of edges.keys()) visit(folder, [folder]);
    expect(cycles).toEqual([]);
  });

  it('has no import cycle among the root files of src/, type imports included', () => {
    const root = inFolder('.');
    const rootFiles = new Set(root.map((module) => module.file));
    const edges = new Map(
      root.map((module) => [
        module.file,
        module.imports
          .map((target) => target.replace(/\.js$/, '.ts'))
          .filter((target) => rootFiles.has(target) && target !== module.file),
      ]),
    );
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      for (const next of edges.get(file) ?? []) {
        if (trail.includes(next)) cycles.push([...trail.slice(trail.indexOf(next)), next].join(' → '));
        else visit(next, [...trail, next]);
      }
    };
    for (const file of rootFiles) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('lets folders import no root file but config.ts: the root composes them, never the reverse', () => {
    const upward = all
      .filter((module) => module.folder !== '.')
      .flatMap((module) =>
        module.imports
          .filter((target) => target.endsWith('.js') && !target.startsWith('..') && folderOf(target) === '.')
          .filter((target) => target !== 'config.js')
          .map((target) => `${module.file} → ${target}`),
      );
    expect(upward).toEqual([]);
  });

  it('keeps development machinery out of the production entry point: nothing main.ts reaches loads the simulator or the embedded object store', () => {
    const byFile = new Map(all.map((module) => [module.file, module]));
    const reached = new Set<string>();
    const reach = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const target of byFile.get(file)?.imports ?? []) {
        const next = target.replace(/\.js$/, '.ts');
        if (byFile.has(next)) reach(next);
      }
    };
    reach('main.ts');
    expect(reached.has('run.ts')).toBe(true);
    const development = [...reached].filter((file) =>
      /^(?:simulator\/|local-s3\/|cli\/simulat|simulated-smile-id\.ts$|dev\.ts$)/.test(file),
    );
    expect(development).toEqual([]);
  });

  it('keeps feature folders apart: callbacks, reconcile, submit, notify, decide and maintenance import none of one another', () => {
    const features = ['callbacks', 'reconcile', 'submit', 'notify', 'decide', 'maintenance'];
    const crossing = all
      .filter((module) => features.includes(module.folder))
      .flatMap((module) =>
        module.imports
          .filter((target) => features.includes(folderOf(target)) && folderOf(target) !== module.folder)
          .map((target) => `${module.file} → ${target}`),
      );
    expect(crossing).toEqual([]);
  });

  it("declares each feature's queued work in its jobs.ts, which only the composition root assembles", () => {
    const jobModules = all.filter((module) => module.file.endsWith('/jobs.ts')).map((module) => module.file);
    expect(jobModules.sort()).toEqual([
      'decide/jobs.ts',
      'maintenance/jobs.ts',
      'notify/jobs.ts',
      'reconcile/jobs.ts',
      'submit/jobs.ts',
    ]);
    // settings.ts may name the settings each module takes; only the root builds modules from them.
    const assemblers = all
      .filter((module) => /^import\s+(?!type\b)[^;]*from\s+'[./]*[\w-]+\/jobs\.js'/m.test(module.text))
      .map((module) => module.file);
    expect(assemblers).toEqual(['deps.ts']);
  });

  it('opens BullMQ queues and workers in queues/ alone: everything else queues through the typed producer', () => {
    const opening = all
      .filter((module) => module.folder !== 'queues')
      .filter((module) => /^import\s+(?!type\b)[^;]*from\s+'bullmq'/m.test(module.text))
      .map((module) => module.file);
    expect(opening).toEqual([]);
  });

  it('writes every SQL statement and every Prisma call in store/', () => {
    const sql = /\b(?:SELECT\s+[\w"*(]|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s)/;
    const outside = all
      .filter((module) => !['store', 'simulator'].includes(module.folder))
      .filter(
        (module) =>
          sql.test(module.text.replace(/^\s*(\*|\/\/).*$/gm, '')) ||
          module.imports.some((target) => target.includes('generated/prisma')),
      )
      .map((module) => module.file);
    expect(outside).toEqual([]);
  });

  it('reads the environment in config.ts alone', () => {
    const readers = all
      .filter((module) => /process\.env\b/.test(module.text))
      .map((module) => module.file)
      .filter((file) => file !== 'config.ts');
    expect(readers).toEqual([]);
  });

  it('cites no document outside the repository in a comment', () => {
    const citing = all
      .filter((module) => /CONTRACT\.md|SPEC\.md|SPEC §/.test(module.text))
      .map((module) => module.file);
    expect(citing).toEqual([]);
  });
});
