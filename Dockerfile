# syntax=docker/dockerfile:1
#
# Switchboard image: the three binaries, static, on distroless.
#
#   /usr/local/bin/switchboard         the full CLI (migrate, validate, dev, ...;
#                                      links the Temporal server, so it is large)
#   /usr/local/bin/switchboard-api     API server (default command, port 8080)
#   /usr/local/bin/switchboard-worker  Temporal worker (health/metrics on 8081)
#
# Build: docker build -t switchboard .   (docker-compose.yml builds it too)
#
# TODO: when the web UI exists (ui/), add a node stage that builds it and
# copy its output into the builder before `go build` so it can be embedded.

ARG GO_VERSION=1.26.8

# The builder runs on the build machine's platform and cross-compiles for the
# target one (docker buildx build --platform linux/amd64,linux/arm64 .).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Modules first, as their own layer: source edits do not re-download them.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .

# Static binaries: the project is pure Go (modernc.org/sqlite, no cgo), so
# nothing is needed from libc and they run on distroless/static.
ENV CGO_ENABLED=0
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/switchboard ./cmd/switchboard && \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/switchboard-api ./cmd/api && \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/switchboard-worker ./cmd/worker

# Runtime: CA certificates, tzdata and /etc/passwd, no shell, no package
# manager; runs as uid 65532 (nonroot). There is no curl or wget either: the
# health checks are `switchboard-api healthcheck` and
# `switchboard-worker healthcheck`.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchboard /out/switchboard-api /out/switchboard-worker /usr/local/bin/
USER nonroot:nonroot
WORKDIR /home/nonroot
EXPOSE 8080
CMD ["switchboard-api"]
