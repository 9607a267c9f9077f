# Image of the Azure OpenAI simulator for E2E deployments (`spillway deploy workload <env> --deploy-e2e`).
# Context: the files listed in simulator.Dockerfile.dockerignore, staged by `spillway deploy`.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly, so dev dependencies are needed; no install scripts run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY apisix/pins.json apisix/pins.json
COPY lib lib
COPY renderer renderer
COPY plugins plugins
COPY scripts scripts
USER node
EXPOSE 8000
ENTRYPOINT ["node", "--import", "tsx", "scripts/spillway.ts", "simulator"]
