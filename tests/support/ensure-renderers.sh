#!/bin/sh
# Install Graphviz and PlantUML (Debian) so tests/commands/test_diagram.py can check that
# `generate diagram` output really renders. As root with apt-get only; otherwise those tests skip
# and say why. A no-op when both are present.
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
