#!/usr/bin/env bash
# Installs the pinned build tools into .tools/bin with `go install` (the Go module proxy is
# the only network they need). Sourced by scripts/test and scripts/generate.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOBIN="$root/.tools/bin"
export PATH="$GOBIN:$PATH"
tools=(
  github.com/bufbuild/buf/cmd/buf@v1.75.0
  google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
  google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.33.0
  github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.33.0
)
stamp="$GOBIN/.versions"
want="$(printf '%s\n' "${tools[@]}")"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing build tools into .tools/bin"
  mkdir -p "$GOBIN"
  for t in "${tools[@]}"; do
    # Outside the workspace, so the tools' own dependencies do not mix with ours.
    (cd "$root" && GOWORK=off GOFLAGS=-mod=mod go install "$t")
  done
  printf '%s\n' "$want" > "$stamp"
fi
