#!/bin/sh
# Install Go and Debian's nats-io/jwt v2, nkeys and nats.go (the Go client, with JetStream, KV and
# Object Store) sources for the Go interop oracle (tests/interop) and the Go-client differential tests,
# when missing and when we can: as root with apt-get. Otherwise do nothing; those tests then skip
# and say why. A fresh install takes ~30 s; when everything is present this is a no-op.
if command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/github.com/nats-io/jwt/v2 ] \
  && [ -d /usr/share/gocode/src/github.com/nats-io/nats.go ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Go interop oracle: go or nats-io/jwt missing and cannot apt-get install them; skipping" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq \
  && apt-get install -y -qq golang-go golang-github-nats-io-jwt-dev \
    golang-github-nats-io-nkeys-dev golang-github-nats-io-go-nats-dev >/dev/null; } \
  || echo "Go interop oracle: apt-get install failed; the Go interop tests will skip" >&2
exit 0
