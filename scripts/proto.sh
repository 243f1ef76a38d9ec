#!/bin/sh
# Regenerates lib/import/tensorboard/gen/ from the vendored TensorBoard .proto files
# (lib/import/tensorboard/proto/, Apache-2.0, see LICENSE there) with protoc-gen-es.
# Needs protoc (Debian: apt-get install protobuf-compiler); `npm run proto`.
set -eu
cd "$(dirname "$0")/.."
P=lib/import/tensorboard/proto
OUT=lib/import/tensorboard/gen
rm -rf "$OUT"
mkdir -p "$OUT"
protoc -I "$P" -I /usr/include \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out="$OUT" --es_opt=target=ts,import_extension=none \
  $(cd "$P" && find tensorboard -name '*.proto' | sort)
