# syntax=docker/dockerfile:1

# --- build: compile TypeScript (and the generated Prisma client) to dist/ ---------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app

# Install scripts are not needed: the Prisma client is generated explicitly by `npm run build`.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
# `prisma generate` (schema engine stubbed with /bin/true) writes src/generated/prisma; tsc compiles it
# with the rest of src/ into dist/, including dist/generated/prisma.
RUN npm run build

# --- runtime: production dependencies, dist/ and the migrations -----------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/dist ./dist
# The service applies prisma/migrations/*/migration.sql itself (dist/store/migrate.js resolves ../../prisma).
COPY prisma ./prisma
# The default decision policy (dist/decide/policy-file.js resolves ../../policies).
COPY policies ./policies

USER node
EXPOSE 3000
# Slim images have no curl; node's fetch does the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
