#!/usr/bin/env bash
# CLI start-up: `nscpy describe user --json` against the bare interpreter, with hyperfine.
# Issue 3 budget: median <= 100 ms on this machine.
#
# Rows: the interpreter alone (`python -c pass`, the venv's python3); the console script of the
# editable dev install (.venv, whose .pth finder runs at every start); `python -m nscpy` (always
# the click CLI, for comparison); and the console script of a regular (non-editable) install in
# a scratch venv (skip it with --no-regular; it pip-installs the package and its dependencies).
# Bytecode is cached under a temp PYTHONPYCACHEPREFIX, as an installed package would have it,
# even when PYTHONDONTWRITEBYTECODE is set in the calling environment.
#
# Run: bench/bench_cli.sh [--no-regular] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
regular=1
runs=40
while [ $# -gt 0 ]; do
  case "$1" in
    --no-regular) regular=0 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--no-regular] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$tmp/pycache"
py="$PWD/.venv/bin/python3"
store="$tmp/nsc"
.venv/bin/nscpy -H "$store" init -n demo >/dev/null
args=(-H "$store" describe user -a demo demo --json)

commands=("$py -c pass" ".venv/bin/nscpy ${args[*]}" "$py -m nscpy ${args[*]}")
names=("python3 -c pass" "nscpy describe user --json (editable install)" "python -m nscpy ... (click CLI)")
if [ "$regular" = 1 ]; then
  "$py" -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install -q --disable-pip-version-check "$PWD" >/dev/null
  commands+=("$tmp/venv/bin/nscpy ${args[*]}")
  names+=("nscpy describe user --json (regular install)")
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
hyperfine_args=(-N --warmup 5 --runs "$runs" --export-json "$tmp/result.json")
for i in "${!commands[@]}"; do
  hyperfine_args+=(--command-name "${names[$i]}" "${commands[$i]}")
done
hyperfine "${hyperfine_args[@]}" >/dev/null
"$py" - "$tmp/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print(f"{'':48} {'median':>8} {'mean':>8} {'min':>8}  over python")
for r in results:
    ms = {k: r[k] * 1000 for k in ("median", "mean", "min")}
    print(f"{r['command']:48} {ms['median']:6.1f}ms {ms['mean']:6.1f}ms {ms['min']:6.1f}ms"
          f"  {(r['median'] - base) * 1000:+6.1f}ms")
script = [r for r in results if r["command"].startswith("nscpy describe")]
best = min(r["median"] for r in script) * 1000
print(f"\nbudget: median <= 100 ms -> {'met' if best <= 100 else 'MISSED'} (best install: {best:.1f} ms)")
PY
