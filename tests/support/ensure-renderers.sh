#!/bin/sh
# Install Graphviz and PlantUML (Debian) and Mermaid's parser (npm, under jsdom) so
# tests/commands/test_diagram.py can check that `generate diagram` output really renders.
# Otherwise those tests skip and say why. A no-op when everything is present.
here=$(dirname "$0")
if [ ! -d "$here/mermaid/node_modules/mermaid" ] && command -v npm >/dev/null 2>&1; then
  (cd "$here/mermaid" && npm install --silent --no-audit --no-fund >/dev/null 2>&1) \
    || echo "diagram renderers: npm install of mermaid failed; the Mermaid test will skip" >&2
fi
if command -v dot >/dev/null 2>&1 && command -v plantuml >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "diagram renderers: dot/plantuml missing and cannot apt-get install them; skipping" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq graphviz plantuml >/dev/null; } \
  || echo "diagram renderers: apt-get install failed; the renderer tests will skip" >&2
exit 0
