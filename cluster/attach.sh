#!/usr/bin/env bash
# Prepares an existing cluster (kind, minikube, a dev cluster: the current context of KUBECONFIG) the
# way cluster/up.sh prepares the local one, so that the live-cluster tests run on it unchanged:
# installs the prerequisites (prometheus-operator and cert-manager CRDs, the ClusterIssuers), starts
# kwok as a local process with the same three fake nodes, and taints the cluster's own nodes so the
# stacks' pods land on the kwok nodes (the stacks' image references are digest-pinned placeholders
# that no real node could pull). GitHub's ci.yml runs this on kind.
#
# `cluster/down.sh` stops the kwok it started (by PID); it never touches the cluster itself.
#
# Usage: KUBECONFIG=<file> cluster/attach.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

: "${KUBECONFIG:?set KUBECONFIG to the cluster to prepare}"
command -v kubectl >/dev/null 2>&1 || die "kubectl is needed"
kubectl get --raw /readyz >/dev/null || die "the cluster of KUBECONFIG=$KUBECONFIG does not answer"

build_out="$(bash "$HERE/build.sh" --only kwok,crds)" || die "kwok and the CRDs could not be built (see above)"
BIN="$(sed -n 's/^BIN=//p' <<<"$build_out")"
CRDS="$(sed -n 's/^CRDS=//p' <<<"$build_out")"
export PATH="$PATH:$BIN"

mkdir -p "$CLUSTER_STATE"
for node in $(kubectl get nodes -l 'type!=kwok' -o name); do
  kubectl taint --overwrite "$node" monkeytown.dev/real-node=true:NoSchedule >/dev/null
done
install_prerequisites "$CRDS" # before kwok: its Stages watch ClusterIssuers
start_kwok "$KUBECONFIG"
log "attached: $(kubectl get nodes -l type=kwok --no-headers | wc -l) kwok nodes on $(kubectl config current-context)"
