#!/usr/bin/env bash
# Builds the real cluster's components from source through the Go module proxy, at pinned
# versions, into ~/.cache/wva-scaler/cluster/<versions>/bin. A binary already there is not
# rebuilt, so a second run builds nothing. Prints the bin directory on its last line.
#
# A component whose build fails is named with the path of its log; a missing toolchain is named
# with the command that installs it.
set -euo pipefail

K8S_VERSION=v1.35.4        # kube-apiserver, kube-controller-manager, kube-scheduler
K8S_STAGING=v0.35.4        # k8s.io/api, apimachinery, client-go … published for K8S_VERSION
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
KEDA_VERSION=v2.20.2
GRPCURL_VERSION=v1.9.4
PROMETHEUS_OPERATOR_VERSION=v0.85.0   # ServiceMonitor CRD, for the chart's serviceMonitor option
CERT_MANAGER_VERSION=v1.21.2          # Certificate and Issuer CRDs, for the chart's tls.certManager option

versions="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_keda-${KEDA_VERSION}_grpcurl-${GRPCURL_VERSION}"
root="${WVA_CLUSTER_CACHE:-$HOME/.cache/wva-scaler/cluster}/$versions"
bin="$root/bin"; logs="$root/logs"; work="$root/src"
mkdir -p "$bin" "$logs" "$work"

if ! command -v go >/dev/null 2>&1; then
  echo "cluster build: go not found; install Go 1.26 (https://go.dev/doc/install) or run on a machine of the 'go' kind" >&2
  exit 1
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# run_build NAME: runs the rest of the arguments with output to logs/build-NAME.log; on failure
# names the component, the log and its last lines.
run_build() {
  local name=$1; shift
  local log="$logs/build-$name.log"
  local start=$SECONDS
  echo "cluster build: $name …" >&2
  if ! "$@" >"$log" 2>&1; then
    echo "cluster build: $name FAILED; log: $log" >&2
    tail -n 20 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
  echo "cluster build: $name built in $((SECONDS - start)) s" >&2
}

# wrapper_module DIR MODULE VERSION: a module that requires MODULE@VERSION so that its commands
# can be built although their go.mod has replace directives (go install refuses those).
wrapper_module() {
  local dir=$1 module=$2 version=$3
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module wva-scaler.dev/cluster-build
go 1.26
require $module $version
MOD
  printf 'package tools\n' >"$dir/tools.go"
}

mod_file() { go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p'; }

build_etcd() {
  local dir="$work/etcd"
  wrapper_module "$dir" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  # etcd's server module replaces its sibling modules with paths; use their published versions.
  (cd "$dir" && for m in go.etcd.io/etcd/api/v3 go.etcd.io/etcd/client/pkg/v3 go.etcd.io/etcd/client/v3 go.etcd.io/etcd/pkg/v3; do
    go mod edit -replace "$m=$m@$ETCD_VERSION"; done &&
    go get go.etcd.io/etcd/server/v3@"$ETCD_VERSION" &&
    go build -trimpath -ldflags '-s -w' -o "$bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  local dir="$work/kubernetes" gomod
  wrapper_module "$dir" k8s.io/kubernetes "$K8S_VERSION"
  gomod=$(mod_file k8s.io/kubernetes "$K8S_VERSION")
  # k8s.io/kubernetes replaces every staging module with ./staging/src/…: generate the same list
  # from its go.mod, each with its published version (as kubernetes-sigs/reference-docs does).
  (cd "$dir" &&
    sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$gomod" | while read -r m; do
      go mod edit -replace "$m=$m@$K8S_STAGING"; done &&
    local_pkgs="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler" &&
    # Every package at the pinned version: a package without @version would be upgraded to latest.
    go get $(for p in $local_pkgs; do printf '%s@%s ' "$p" "$K8S_VERSION"; done) &&
    minor=$(echo "$K8S_VERSION" | cut -d. -f2) &&
    ldflags="-s -w" &&
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done &&
    go build -trimpath -ldflags "$ldflags" -o "$bin/" $local_pkgs)
}

build_kwok() {
  GOBIN="$bin" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok@"$KWOK_VERSION"
  # The stage files (fast node and pod life cycles) ship in the module.
  local moddir
  moddir=$(go mod download -json sigs.k8s.io/kwok@"$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  mkdir -p "$root/kwok-stages"
  cp "$moddir"/kustomize/stage/node/fast/*.yaml "$moddir"/kustomize/stage/pod/fast/*.yaml "$root/kwok-stages/"
  chmod u+w "$root"/kwok-stages/*.yaml
}

build_keda() {
  local dir="$work/keda" gomod moddir
  wrapper_module "$dir" github.com/kedacore/keda/v2 "$KEDA_VERSION"
  gomod=$(mod_file github.com/kedacore/keda/v2 "$KEDA_VERSION")
  # KEDA pins k8s.io, controller-runtime, prometheus and cel-go with replace directives: copy them.
  (cd "$dir" &&
    awk '/^replace \(/{on=1;next} on&&/^\)/{on=0} on&&/=>/{print $1"="$3"@"$4}' "$gomod" | while read -r r; do
      go mod edit -replace "$r"; done &&
    go get github.com/kedacore/keda/v2/cmd/operator@"$KEDA_VERSION" github.com/kedacore/keda/v2/cmd/adapter@"$KEDA_VERSION" &&
    go build -trimpath -ldflags "-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION#v}" -o "$bin/keda-operator" github.com/kedacore/keda/v2/cmd/operator &&
    go build -trimpath -ldflags "-s -w -X github.com/kedacore/keda/v2/version.Version=${KEDA_VERSION#v}" -o "$bin/keda-adapter" github.com/kedacore/keda/v2/cmd/adapter)
  moddir=$(go mod download -json github.com/kedacore/keda/v2@"$KEDA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  mkdir -p "$root/keda-crds"
  cp "$moddir"/config/crd/bases/*.yaml "$root/keda-crds/"
  chmod u+w "$root"/keda-crds/*.yaml
}

# CRDs of the operators the chart's options create objects for: the real files from their modules.
fetch_crds() {
  local po cm
  po=$(go mod download -json github.com/prometheus-operator/prometheus-operator@"$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  cm=$(go mod download -json github.com/cert-manager/cert-manager@"$CERT_MANAGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  mkdir -p "$root/extra-crds"
  cp "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
     "$cm/deploy/crds/cert-manager.io_certificates.yaml" "$cm/deploy/crds/cert-manager.io_issuers.yaml" "$root/extra-crds/"
  chmod u+w "$root"/extra-crds/*.yaml
  touch "$root/extra-crds/.$crd_versions"
}

build_grpcurl() {
  GOBIN="$bin" go install -trimpath -ldflags "-s -w -X main.version=$GRPCURL_VERSION" github.com/fullstorydev/grpcurl/cmd/grpcurl@"$GRPCURL_VERSION"
}

[ -x "$bin/etcd" ] || run_build etcd build_etcd
[ -x "$bin/kwok" ] && [ -d "$root/kwok-stages" ] || run_build kwok build_kwok
[ -x "$bin/grpcurl" ] || run_build grpcurl build_grpcurl
crd_versions="prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}_cert-manager-${CERT_MANAGER_VERSION}"
[ -f "$root/extra-crds/.$crd_versions" ] || { rm -rf "$root/extra-crds"; run_build crds fetch_crds; }
{ [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kube-scheduler" ]; } || run_build kubernetes build_kubernetes
{ [ -x "$bin/keda-operator" ] && [ -x "$bin/keda-adapter" ] && [ -d "$root/keda-crds" ]; } || run_build keda build_keda

echo "$bin"
