# syntax=docker/dockerfile:1
# wva-scaler: multi-stage build. The final image holds only the compiled JS (dist/), the
# production dependencies, package*.json and the KEDA proto, and runs as a non-root user.
ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Compile TypeScript with all dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc: legacy-peer-deps (see there), without which npm ci finds the lockfile out of sync.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
RUN npm run build

# 2. Production dependencies only (no TypeScript, vitest, tsx...).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
# .npmrc: legacy-peer-deps (see there), without which npm ci finds the lockfile out of sync.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# npm and yarn are not needed to run the scaler: drop them (size, and fewer packages to patch).
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY proto ./proto
# Numeric, so Kubernetes can verify runAsNonRoot; matches the chart's runAsUser.
USER 10001:10001
EXPOSE 9090 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
