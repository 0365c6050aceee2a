import { configSchema } from "../lib/rule";
import {
  LabelIndex,
  NAMESPACE_NAME_LABEL,
  NamespaceView,
  NetworkPolicyPeer,
  NetworkPolicyView,
  StackView,
  StackWorkload,
  describeSelector,
  inNamespace,
  isEmptySelector,
  podIndex,
  podWorkloads,
  sameNamespace,
  selects,
  someDeclaresPort,
  stackRule,
} from "../lib/stack";
import { Maybe, UNKNOWN } from "../lib/values";

export interface NetworkPolicyTargetsConfig {
  /**
   * Namespaces the cluster has that the stack does not create (kube-system, the ingress
   * controller's, Prometheus'...): peers may select them by their `kubernetes.io/metadata.name`.
   */
  externalNamespaces: string[];
}

/** What a peer's namespaceSelector matches: the stack's namespaces and the listed external ones. */
function peerNamespaces(
  view: StackView,
  selector: Maybe<Record<string, unknown>>,
  external: readonly string[],
): { own: NamespaceView[]; external: string[] } {
  return {
    own: view.namespaces.filter((n) => selects(selector, n.labels) !== false),
    external: external.filter(
      (name) => selects(selector, { [NAMESPACE_NAME_LABEL]: name }) === true,
    ),
  };
}

function podsIn(
  pods: LabelIndex<StackWorkload>,
  namespace: Maybe<string>,
  selector: Maybe<Record<string, unknown>>,
): boolean {
  return pods.select(selector, namespace, 1).length > 0;
}

/** Why a peer selects nothing, or undefined when it selects something (or may). */
function peerProblem(
  view: StackView,
  np: NetworkPolicyView,
  peer: NetworkPolicyPeer,
  pods: LabelIndex<StackWorkload>,
  external: readonly string[],
): string | undefined {
  if (peer.ipBlock || peer.podSelector === UNKNOWN || peer.namespaceSelector === UNKNOWN)
    return undefined;
  const podSel = peer.podSelector;
  const wantsPods = podSel !== undefined && !isEmptySelector(podSel);
  if (peer.namespaceSelector === undefined) {
    // Pods of the policy's own namespace.
    if (!wantsPods || podsIn(pods, np.namespace, podSel)) return undefined;
    return `its peer podSelector ${describeSelector(podSel)} selects no pod ${inNamespace(np.namespace)}`;
  }
  if (isEmptySelector(peer.namespaceSelector)) return undefined; // every namespace
  const matched = peerNamespaces(view, peer.namespaceSelector, external);
  if (matched.own.length === 0 && matched.external.length === 0) {
    return `its peer namespaceSelector ${describeSelector(peer.namespaceSelector)} matches no namespace the stack creates nor one listed in externalNamespaces (${external.join(", ") || "none"})`;
  }
  // Pods are checked where the stack runs them; an external namespace's pods are its own affair.
  if (!wantsPods || matched.external.length > 0) return undefined;
  if (matched.own.some((n) => n.name === UNKNOWN || podsIn(pods, n.name, podSel))) return undefined;
  return `its peer podSelector ${describeSelector(podSel)} selects no pod in the namespaces its namespaceSelector matches`;
}

/**
 * Every NetworkPolicy selects the pods of a workload in its namespace (an empty podSelector, a
 * namespace-wide policy, is fine), every `from`/`to` peer selects something plausible (pods of the
 * stack, a namespace the stack creates, or a namespace listed in `externalNamespaces` by its
 * `kubernetes.io/metadata.name`), and every named port an ingress rule allows is a container port
 * name of the selected pods. A peer or named port that matches nothing silently blocks the traffic
 * the rule was written to allow.
 */
export function networkPolicyTargetsPods() {
  return stackRule<NetworkPolicyTargetsConfig>({
    name: "network-policy-targets-pods",
    description:
      "Every NetworkPolicy selects a workload's pods, its peers select pods or namespaces that exist, and its named ports exist on the pods.",
    checks:
      "Every NetworkPolicy with a non-empty `podSelector` selects pods in its namespace; each `from`/`to` peer selects pods of its own namespace, a Namespace the stack creates (its labels and `kubernetes.io/metadata.name`, with pods there when it has a `podSelector`), or a namespace listed in `externalNamespaces` (by `kubernetes.io/metadata.name`); each named port of an ingress rule is a container port name of its pods. `ipBlock` peers are not checked.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "kube-score networkpolicy-targets-pod (pod selector only); Polaris (none); kubesec (none); checkov (none)",
    remediationSteps:
      "Make podSelector and peer podSelectors subsets of pod template labels; select namespaces the stack creates or list the cluster's own in externalNamespaces; allow ports by names the containers declare.",
    configSchema: configSchema({
      externalNamespaces: {
        type: "array",
        items: { type: "string" },
        default: ["kube-system", "kube-public", "kube-node-lease", "default"],
        description:
          "Namespaces the cluster has that the stack does not create (prerequisites such as the ingress controller's and Prometheus'); peers may select them by kubernetes.io/metadata.name.",
      },
    }),
    check(view, config, report) {
      const pods = podWorkloads(view);
      const index = podIndex(view);
      for (const np of view.networkPolicies) {
        const all = isEmptySelector(np.podSelector);
        // Its pods: whether there are any is always needed, the full list only for named ports.
        let own: StackWorkload[] | undefined;
        const ownPods = (): StackWorkload[] =>
          (own ??= all
            ? pods.filter((sw) => sameNamespace(sw.workload.namespace, np.namespace))
            : index.select(np.podSelector, np.namespace));
        if (!all && index.select(np.podSelector, np.namespace, 1).length === 0) {
          report(
            np.resource,
            `NetworkPolicy "${np.name}" selects pods labelled ${describeSelector(np.podSelector)} but no workload ${inNamespace(np.namespace)} runs such pods, so it isolates nothing and the pods it was written for are unprotected. Fix: make podSelector a subset of their pod template labels.`,
          );
        }
        if (np.rules === UNKNOWN) continue;
        for (const rule of np.rules) {
          const word = rule.direction === "ingress" ? "from" : "to";
          if (rule.peers !== UNKNOWN) {
            for (const peer of rule.peers) {
              const problem = peerProblem(view, np, peer, index, config.externalNamespaces);
              if (problem === undefined) continue;
              report(
                np.resource,
                `NetworkPolicy "${np.name}" ${rule.direction} rule: ${problem}, so the traffic it allows ${word} there never matches and is dropped. Fix: select pods by their template labels and namespaces by kubernetes.io/metadata.name, and list namespaces the cluster must already have in this rule's externalNamespaces setting.`,
              );
            }
          }
          // A named port in an ingress rule is a port of the selected pods (egress: of the peer's).
          if (rule.direction !== "ingress" || rule.ports === UNKNOWN) continue;
          for (const port of rule.ports) {
            if (typeof port !== "string") continue;
            if (ownPods().length === 0 || someDeclaresPort(ownPods(), port)) continue;
            report(
              np.resource,
              `NetworkPolicy "${np.name}" allows ingress on the port named "${port}", which no container of its pods declares, so that rule admits nothing. Fix: name the container port "${port}" or allow a port the containers declare.`,
            );
          }
        }
      }
    },
  });
}
