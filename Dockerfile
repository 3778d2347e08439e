# tally: one image for the API, the worker and the CLI; docker-compose.yml picks the command.
# Build stage: install every dependency, compile the TypeScript, then drop the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/cache/package.json packages/cache/
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY bench/package.json bench/
# Install scripts are off: the only one (msgpackr-extract, optional) falls back to plain JS.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY apps apps
COPY bench bench
RUN npx tsc -b && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime stage: the compiled JavaScript, the SQL migrations, the Lua scripts and production
# dependencies only. Runs as the unprivileged `node` user.
FROM node:20-slim
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages/config/package.json packages/config/
COPY --from=build /app/packages/config/dist packages/config/dist
COPY --from=build /app/packages/db/package.json packages/db/
COPY --from=build /app/packages/db/dist packages/db/dist
COPY --from=build /app/packages/db/migrations packages/db/migrations
COPY --from=build /app/packages/cache/package.json packages/cache/
COPY --from=build /app/packages/cache/dist packages/cache/dist
COPY --from=build /app/packages/cache/lua packages/cache/lua
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/worker/dist apps/worker/dist
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/cli/dist apps/cli/dist
COPY --from=build /app/apps/cli/bin apps/cli/bin
USER node
ENV HOST=0.0.0.0
EXPOSE 3000 3001
# The API by default; compose runs the worker and the migration from the same image.
CMD ["node", "apps/api/dist/server.js"]
