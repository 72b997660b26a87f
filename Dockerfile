# samlite in a container: the CLI as the entrypoint, the built-in models included.
#
#   docker build -t samlite .
#   docker run --rm -v "$PWD:/data" samlite everything photos/ --out masks/
#
# Two stages, because compiling the TypeScript needs tsc, a dev dependency: the build stage
# installs everything and compiles dist/; the runtime stage installs the production
# dependencies only, then runs the install scripts of the two native packages alone, and
# copies dist/ from the build stage. Both install with scripts off: the build stage ships
# only dist/, and tsc needs no more of onnxruntime-node and sharp than their type
# declarations, which are in their packages (the runtime stage's `prepare` would also fail
# without tsc).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY src/ src/
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run build

FROM ${NODE_IMAGE}
ENV ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    NODE_ENV=production \
    SAMLITE_HOME=/home/node/.cache/samlite
# tini as PID 1 passes SIGTERM and SIGINT on to samlite (a bare PID 1 ignores them), so
# `docker stop`, a Kubernetes eviction or a Slurm time limit stops samlite the same way
# Ctrl-C does: no new images, the ones in flight finish. ca-certificates: without a CA
# bundle onnxruntime prints a telemetry warning on every run.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/samlite
COPY package.json package-lock.json ./
# onnxruntime-node ships its binaries for every platform (about 290 MB): keep this one's.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild onnxruntime-node sharp \
 && npm cache clean --force \
 && node -e "const fs = require('node:fs'); const bin = 'node_modules/onnxruntime-node/bin'; \
      for (const napi of fs.readdirSync(bin)) for (const os of fs.readdirSync(bin + '/' + napi)) \
        for (const arch of fs.readdirSync(bin + '/' + napi + '/' + os)) \
          if (os !== process.platform || arch !== process.arch) fs.rmSync(bin + '/' + napi + '/' + os + '/' + arch, { recursive: true });"
COPY --from=build /build/dist/ dist/
COPY bin/ bin/
COPY models/registry.json models/
COPY models/builtin/ models/builtin/
COPY LICENSE README.md ./
RUN ln -s /opt/samlite/bin/samlite /usr/local/bin/samlite \
 && node bin/samlite --version

# The node image's unprivileged user; mount data where it may write, e.g. -v "$PWD:/data".
USER node
WORKDIR /data
ENTRYPOINT ["tini", "--", "samlite"]
CMD ["--help"]
