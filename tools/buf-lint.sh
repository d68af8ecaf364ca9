#!/usr/bin/env bash
# Lints the Pan contract (proto/) with buf, as configured in buf.yaml.
#
#   tools/buf-lint.sh            # lint; exits non-zero on any finding
#   tools/buf-lint.sh --error-format=json
#
# 1. Installs the buf pinned in tools/package.json (npm package @bufbuild/buf).
# 2. Stages the google/api protos shipped in the NuGet package Google.Api.CommonProtos
#    (version from Directory.Packages.props) into the gitignored build/ folder, where
#    buf.yaml expects them as a second, unlinted module. Why not commit copies:
#    STYLE.md forbids keeping google/api/*.proto that a package already ships, and
#    this keeps buf on exactly the files Grpc.Tools compiles against.
# 3. Runs `buf lint`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# 1. buf. Why --ignore-scripts: the binary comes from the platform package
# (@bufbuild/buf-<os>-<arch>, an optional dependency in the lock); buf's postinstall
# only re-checks it, and no install-time code needs to run.
if [[ -f tools/package-lock.json ]]; then
  npm ci --prefix tools --no-audit --no-fund --ignore-scripts
else
  npm install --prefix tools --no-audit --no-fund --ignore-scripts
fi
buf="tools/node_modules/.bin/buf"
[[ -x "$buf" ]] || { echo "buf-lint: $buf not found after npm install" >&2; exit 1; }

# 2. google/api protos from NuGet.
version="$(sed -n 's/.*<PackageVersion[[:space:]]*Include="Google\.Api\.CommonProtos"[[:space:]]*Version="\([^"]*\)".*/\1/p' Directory.Packages.props)"
if [[ -z "$version" ]]; then
  echo "buf-lint: no PackageVersion for Google.Api.CommonProtos in Directory.Packages.props" >&2
  exit 1
fi
protos="${NUGET_PACKAGES:-$HOME/.nuget/packages}/google.api.commonprotos/$version/content/protos"
if [[ ! -f "$protos/google/api/annotations.proto" ]]; then
  echo "buf-lint: Google.Api.CommonProtos $version not in the NuGet cache; restoring src/Pan.Contracts"
  dotnet restore src/Pan.Contracts
fi
if [[ ! -f "$protos/google/api/annotations.proto" ]]; then
  echo "buf-lint: $protos/google/api/annotations.proto is missing even after dotnet restore" >&2
  exit 1
fi

staged="build/buf/google-api-commonprotos"   # the second module in buf.yaml
rm -rf "$staged"
mkdir -p "$(dirname "$staged")"
cp -R "$protos" "$staged"

# 3. Lint. buf exits non-zero (100) on findings; set -e passes that on.
"$buf" --version
"$buf" lint "$@"
echo "buf-lint: proto/ is clean"
