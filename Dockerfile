# CRM Core: build with the full toolchain, ship only the compiled app and its production dependencies.
#
#   docker build -t crm-core .
#   docker run -e DATABASE_URL=postgres://... -e CRM_MASTER_KEY=$(openssl rand -base64 32) -p 3000:3000 crm-core
#
# DATABASE_URL must always be set in a container: the embedded-PostgreSQL fallback is for local development only.

# ---------------------------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app

# package.json's `allowScripts` (which dependencies may run install scripts) is only honoured by npm 11; the npm
# bundled with Node 22 is 10.x, which ignores it and would run every dependency's install script. Pin the same npm as
# development uses, in its own layer so it stays cached across dependency changes.
RUN npm install --global --no-audit --no-fund npm@11.19.1

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
# `nest build` -> dist/ (entry dist/src/main.js; migrations compile to dist/migrations), then drop the dev tooling.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production

# The app directory belongs to `node` so the process can create files under it if ever needed; the code and the
# dependencies copied below stay root-owned, i.e. read-only to the running process.
RUN mkdir -p /app && chown node:node /app
WORKDIR /app

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

USER node
EXPOSE 3000

# No curl in the slim image: Node's own fetch. /health is outside the /crm-core/v1 prefix and needs no signature;
# it answers 503 while the database does not.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# On SIGTERM the app stops accepting, drains in-flight requests (up to SHUTDOWN_TIMEOUT_MS, default 10 s), then exits.
# Give it longer than that to stop (docker stop -t / compose stop_grace_period), or it is killed mid-drain.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
