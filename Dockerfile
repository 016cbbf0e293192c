# claude-code-gateway: OpenAI/Anthropic-compatible APIs served by the Claude Code CLI.
# The Claude login lives in the /data volume (GATEWAY_DATA_DIR): rebuilding or replacing the
# container keeps it. See README "Docker" for reusing a login made on the host.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: every native piece (the Claude CLI, the PTY used by /auth login) ships prebuilt
# in its npm package, so the image needs no compiler and fetches nothing beyond the registry.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=4000 \
    GATEWAY_DATA_DIR=/data \
    HOME=/home/node
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The data dir is created owned by the unprivileged user, so a fresh named volume inherits that.
RUN mkdir -p /data /home/node/.claude && chown -R node:node /data /home/node
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.GATEWAY_PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
