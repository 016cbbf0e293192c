# claude-code-gateway: OpenAI/Anthropic-compatible APIs served by the Claude Code CLI.
# The Claude login lives in the /data volume (GATEWAY_DATA_DIR): rebuilding or replacing the
# container keeps it. See README "Deployment" for reusing a login made on the host.
#
# Build with the Docker image format, or podman/buildah drop the HEALTHCHECK below:
#   docker build -t claude-code-gateway .            (Docker always writes this format)
#   podman build --format docker -t claude-code-gateway .
# NODE_IMAGE names the base image (a mirror, or a local image for offline builds) without retagging:
#   podman build --format docker --build-arg NODE_IMAGE=registry.example/node:20-bookworm-slim .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: every native piece (the Claude CLI, the PTY used by /auth login) ships prebuilt
# in its npm package, so the image needs no compiler and fetches nothing beyond the registry.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# Only what runs is kept: no dev dependencies, no optional peers (the Agent SDK's MCP server helpers,
# the TypeScript SDK: the gateway loads neither), no type declarations, source maps or docs.
RUN npm run build \
 && npm prune --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@anthropic-ai/sdk node_modules/.package-lock.json \
 && find node_modules dist \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -type f -delete

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=4000 \
    GATEWAY_DATA_DIR=/data \
    HOME=/home/node
WORKDIR /app
# The data dir is created owned by the unprivileged user, so a fresh named volume inherits that.
RUN mkdir -p /data /home/node/.claude && chown -R node:node /data /home/node
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
VOLUME ["/data"]
EXPOSE 4000
# SIGTERM drains running turns for GATEWAY_DRAIN_TIMEOUT_MS (8 s), within the 10 s that `docker stop`,
# `podman stop` and podman-compose wait before SIGKILL. Longer drains need a longer stop timeout too.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.GATEWAY_PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
