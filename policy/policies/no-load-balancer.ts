import { K8sService } from "../lib/resource-types";
import { configSchema, PackPolicy, resourceRule } from "../lib/rule";
import { UNKNOWN, field, obj, str } from "../lib/values";

export interface NoLoadBalancerConfig {
  /** Services allowed to be LoadBalancer/NodePort, as "namespace/name" or "name". */
  allowedServices: string[];
  /** Allow NodePort services. */
  allowNodePort: boolean;
}

/**
 * Services are not of type LoadBalancer (nor NodePort) unless listed: traffic enters through the
 * Cloudflare edge and the ingress, and every cloud load balancer is a public entry point that
 * bypasses both (and costs money).
 */
export function noLoadBalancer(): PackPolicy {
  return resourceRule<NoLoadBalancerConfig>({
    name: "no-load-balancer",
    description: "Services are not exposed as LoadBalancer or NodePort except where allowed.",
    checks: "No Service of type LoadBalancer or NodePort unless allowed.",
    enforcementLevel: "advisory",
    severity: "high",
    peers:
      "kube-score service-type (NodePort); Polaris (none); kubesec (none); checkov (none); Kyverno restrict-service-type / restrict-loadbalancer (best practices)",
    remediationSteps:
      "Use type: ClusterIP behind the ingress, or list the Service in allowedServices after review.",
    configSchema: configSchema({
      allowedServices: {
        type: "array",
        items: { type: "string" },
        default: [],
        description: 'Services allowed to be exposed directly, as "namespace/name" or "name".',
      },
      allowNodePort: { type: "boolean", default: false, description: "Allow type: NodePort." },
    }),
    resourceType: K8sService,
    check(r, config, report) {
      const props = obj(r.props);
      const type = str(field(obj(field(props, "spec")), "type"));
      if (type === UNKNOWN || type === undefined) return;
      if (type !== "LoadBalancer" && !(type === "NodePort" && !config.allowNodePort)) return;
      const meta = obj(field(props, "metadata"));
      const n = str(field(meta, "name"));
      const ns = str(field(meta, "namespace"));
      const name = typeof n === "string" ? n : r.name;
      const ids = [name, `${typeof ns === "string" ? ns : "default"}/${name}`];
      if (config.allowedServices.some((a) => ids.includes(a))) return;
      report(
        `Service "${name}" is type ${type}, which opens a port on ${type === "LoadBalancer" ? "a public cloud load balancer" : "every node"} and bypasses the Cloudflare edge and the ingress. Fix: use type: ClusterIP behind the ingress, or add "${ids[1]}" to allowedServices after review.`,
      );
    },
  });
}
