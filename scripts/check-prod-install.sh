#!/usr/bin/env bash
# The production install, run on a terminal, as a user of the Docker image or the npm package:
#
#   1. `npm pack` (prepack: clean + build) and check what the tarball ships: dist/src (with the
#      status page's bundled script), bin, LICENSE, README, and no sources or tests;
#   2. unpack it into a temp dir with package-lock.json and `npm ci --omit=dev --ignore-scripts`,
#      as the Dockerfile's runtime stage does: no tsx, no pino-pretty, no esbuild, no EBADENGINE
#      warning; the status page's script is read from dist/; then TypeScript and the
#      OpenTelemetry SDK are pruned as in the image (scripts/prune-runtime.mjs) and step 3 runs
#      on what is left;
#   3. under `script` (stdout is a pseudo-terminal): `--help`, `--version`, and a `worker` stopped
#      by SIGINT after a few seconds must exit 0, log "worker started" as JSON (pid, hostname)
#      and never print pino-pretty's "unable to determine transport target";
#   4. in the checkout (pino-pretty installed), the same worker logs pretty lines: coloured, and
#      without colours when NO_COLOR is set.
#
#   bash scripts/check-prod-install.sh      (needs Redis at $REDIS_URL, npm registry or cache)
#
# Run by .ci/run; takes ~20-30 s. Exits 1 if any check fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
WORKER_SECONDS="${WORKER_SECONDS:-3}"

command -v script >/dev/null || { echo "script(1) not found (Debian: apt-get install bsdutils)" >&2; exit 1; }
command -v timeout >/dev/null || { echo "timeout(1) not found (coreutils)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sdx-prod-install.XXXXXX")"
PREFIX="{sdx-pty-$$-$RANDOM}"
cleanup() {
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX*" 2>/dev/null |
      xargs -r -d '\n' redis-cli -u "$REDIS_URL" unlink >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILED=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  FAILED=1
}
# check <description> <command...>: ok when the command succeeds.
check() {
  local what="$1"
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
has_ansi() { grep -q $'\e\\[' "$1"; }
lacks_ansi() { ! has_ansi "$1"; }

# on_pty <log> <command...>: runs the command with stdout on a pseudo-terminal; returns its exit
# code, its output (with CRLF line ends) in <log>.
on_pty() {
  local log="$1" cmd
  shift
  printf -v cmd '%q ' "$@"
  local rc=0
  script -qec "$cmd" /dev/null </dev/null >"$log" 2>&1 || rc=$?
  return "$rc"
}

# worker_on_pty <log> <NO_COLOR value> <cli...>: a worker on a pseudo-terminal, SIGINT after
# WORKER_SECONDS. (No jobs are enqueued: the API key and base URL are never used.)
# --foreground: without it timeout signals the child AND its own process group, so the worker
# gets SIGINT twice and the second one (after its once-handler) kills it with 130.
worker_on_pty() {
  local log="$1" no_color="$2"
  shift 2
  on_pty "$log" env SENDMUX_API_KEY=smx_root_pty_check SENDMUX_BASE_URL=http://127.0.0.1:9/api/v1 \
    REDIS_URL="$REDIS_URL" QUEUE_PREFIX="$PREFIX" LOG_LEVEL=info NO_COLOR="$no_color" \
    timeout --foreground --preserve-status -s INT "$WORKER_SECONDS" "$@"
}

show() {
  echo "----- $1"
  tr -d '\r' <"$1" | head -n 20
  echo "-----"
}

VERSION="$(node -p 'require("./package.json").version')"

echo "== 1. npm pack"
npm pack --pack-destination "$WORK" --silent >"$WORK/pack.log" 2>&1 || { cat "$WORK/pack.log"; exit 1; }
TARBALL="$(find "$WORK" -maxdepth 1 -name '*.tgz' | head -n 1)"
[[ -n "$TARBALL" ]] || { echo "npm pack made no tarball" >&2; cat "$WORK/pack.log"; exit 1; }
tar -tzf "$TARBALL" | sed 's|^package/||' | sort >"$WORK/files.txt"
echo "$(wc -l <"$WORK/files.txt") files in $(basename "$TARBALL")"
for f in package.json README.md LICENSE bin/sendmux-deactivator.js dist/src/index.js \
  dist/src/index.d.ts dist/src/cli/main.js dist/src/version.js dist/src/logger.js \
  dist/src/http/status-page/status.js; do
  check "tarball has $f" grep -qxF "$f" "$WORK/files.txt"
done
check "tarball has no sources, tests, scripts or docs" \
  bash -c '! grep -E "^(src|test|bench|scripts|spec|docs|\.ci)/|\.test\.|^dist/(test|bench)/" "$1"' _ "$WORK/files.txt"

echo "== 2. production install (npm ci --omit=dev, as in the image)"
APP="$WORK/app"
mkdir -p "$APP"
tar -xzf "$TARBALL" -C "$APP" --strip-components=1
cp package-lock.json "$APP/"
if (cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline) >"$WORK/ci.log" 2>&1; then
  ok "npm ci --omit=dev"
else
  fail "npm ci --omit=dev"
  cat "$WORK/ci.log"
fi
check "no EBADENGINE warning (node $(node --version))" lacks "$WORK/ci.log" EBADENGINE
check "no tsx in the production install" test ! -e "$APP/node_modules/tsx"
check "no pino-pretty in the production install" test ! -e "$APP/node_modules/pino-pretty"
check "no esbuild in the production install" test ! -e "$APP/node_modules/esbuild"
# The status page's script comes from the bundle in dist/ (esbuild is not there to make one).
check "the status page's script is served from dist/" node --input-type=module -e "
  const { statusScript } = await import('$APP/dist/src/http/status-page/script.js');
  process.exit((await statusScript()).includes('v1/overview') ? 0 : 1);"
echo "node_modules: $(du -sh "$APP/node_modules" | cut -f1)"
# As the image does by default: out with TypeScript and the OpenTelemetry SDK, nothing loads them
# (the checks below run on what is left).
if (cd "$APP" && node "$ROOT/scripts/prune-runtime.mjs" typescript @opentelemetry/sdk-node) >"$WORK/prune.log" 2>&1; then
  ok "$(cat "$WORK/prune.log")"
else
  fail "prune-runtime.mjs"
  cat "$WORK/prune.log"
fi
check "no typescript after the prune" test ! -e "$APP/node_modules/typescript"
check "no OpenTelemetry SDK after the prune" test ! -e "$APP/node_modules/@opentelemetry/sdk-node"
check "the OpenTelemetry API stays (spans are no-ops without the SDK)" test -e "$APP/node_modules/@opentelemetry/api"
echo "node_modules after the prune: $(du -sh "$APP/node_modules" | cut -f1)"

echo "== 3. production install on a pseudo-terminal"
BIN="$APP/bin/sendmux-deactivator.js"
on_pty "$WORK/tty.log" node -e 'process.stdout.write(String(process.stdout.isTTY))' || true
check "script gives the child a TTY stdout" has "$WORK/tty.log" true

rc=0
on_pty "$WORK/help.log" node "$BIN" --help || rc=$?
check "--help exits 0 (got $rc)" test "$rc" -eq 0
check "--help prints usage" has "$WORK/help.log" "Usage: sendmux-deactivator"

rc=0
on_pty "$WORK/version.log" node "$BIN" --version || rc=$?
check "--version exits 0 (got $rc)" test "$rc" -eq 0
check "--version prints $VERSION" has "$WORK/version.log" "$VERSION"

rc=0
worker_on_pty "$WORK/worker.log" "" node "$BIN" worker || rc=$?
check "worker exits 0 on SIGINT (got $rc)" test "$rc" -eq 0
check "worker logged \"worker started\"" has "$WORK/worker.log" "worker started"
check "no pino-pretty transport error" lacks "$WORK/worker.log" "unable to determine transport target"
check "JSON lines carry pid, hostname and service" \
  grep -qE '"pid":[0-9]+,"hostname":"[^"]+","service":"sendmux-deactivator"' "$WORK/worker.log"
if ((FAILED)); then show "$WORK/worker.log"; fi

echo "== 4. checkout (pino-pretty installed) on a pseudo-terminal"
FAILED_BEFORE=$FAILED
rc=0
worker_on_pty "$WORK/pretty.log" "" node "$ROOT/dist/src/cli/main.js" worker || rc=$?
check "pretty worker exits 0 on SIGINT (got $rc)" test "$rc" -eq 0
check "pretty worker logged \"worker started\"" has "$WORK/pretty.log" "worker started"
check "pretty output is coloured" has_ansi "$WORK/pretty.log"
check "pretty output is not JSON" lacks "$WORK/pretty.log" '"msg":'

rc=0
worker_on_pty "$WORK/nocolor.log" 1 node "$ROOT/dist/src/cli/main.js" worker || rc=$?
check "NO_COLOR worker exits 0 (got $rc)" test "$rc" -eq 0
check "NO_COLOR worker logged \"worker started\"" has "$WORK/nocolor.log" "worker started"
check "NO_COLOR=1: no ANSI colours" lacks_ansi "$WORK/nocolor.log"
if ((FAILED != FAILED_BEFORE)); then
  show "$WORK/pretty.log"
  show "$WORK/nocolor.log"
fi

if ((FAILED)); then
  echo "production-install checks FAILED"
  exit 1
fi
echo "production-install checks passed"
