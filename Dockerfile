# syntax=docker/dockerfile:1
#
# lienthong: one static binary, every part of the suite.
# Build:  docker build -t lienthong:dev .
# Run:    see docker-compose.yml (one container per part, same image).

# --- build stage -------------------------------------------------------------
FROM golang:1.26-bookworm AS build
WORKDIR /src

# The repo root is a go.work workspace; cmd/lienthong is one module in it,
# so the whole tree (all workspace modules) is needed for the build.
COPY . .

ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/lienthong ./cmd/lienthong

# Empty mount points, owned by the nonroot user of the final stage
# (distroless has no shell to mkdir/chown there).
RUN mkdir -p /out/data /out/keys

# --- final stage -------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/lienthong /lienthong
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/keys /keys

ENV LIENTHONG_DATA_DIR=/data \
    LIENTHONG_KEYS_DIR=/keys \
    LIENTHONG_HEALTH_ADDR=127.0.0.1:8080

# distroless :nonroot already runs as 65532; say so explicitly.
USER 65532:65532

VOLUME ["/data"]

# `lienthong health` dials LIENTHONG_HEALTH_ADDR and exits 0 only when the
# gRPC health check answers SERVING.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/lienthong", "health"]

ENTRYPOINT ["/lienthong"]
