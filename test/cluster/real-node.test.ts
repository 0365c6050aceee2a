/**
 * The local cluster's real node (`npm run cluster:up -- --real-node`, docs/cluster.md): a pod from a
 * locally built image (monkeytown.local/node-check:1, busybox httpd on :8080, loaded without a
 * registry) runs on it under the `restricted` Pod Security Standard, its probes are run for real,
 * the host reaches it through a ClusterIP Service (kube-proxy's iptables rules), and `kubectl logs`
 * and `kubectl exec` reach its kubelet. kwok nodes prove none of this: they mark every pod Ready.
 * Skipped, with the reason, when the cluster has no Ready real node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getItems,
  kubectl,
  kubectlTry,
  realNodeSkipReason,
  until,
  skipReason,
  type KubeObject,
} from "./harness";

const NODE = "monkeytown-real";
const NS = "real-node-check";
const IMAGE = "monkeytown.local/node-check:1";

const reason = realNodeSkipReason();
if (reason && !skipReason) console.warn(`[real-node tests] skipped: ${reason}`);

/** A pod for the real node: tolerates its taint, selects its label, fits `restricted`. */
function pod(name: string, readinessPath: string): object {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { app: "node-check" } },
    spec: {
      nodeSelector: { "monkeytown.dev/real-node": "true" },
      tolerations: [
        { key: "monkeytown.dev/real-node", operator: "Equal", value: "true", effect: "NoSchedule" },
      ],
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1001,
        runAsGroup: 1001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: "httpd",
          image: IMAGE,
          imagePullPolicy: "Never",
          ports: [{ name: "http", containerPort: 8080 }],
          readinessProbe: {
            httpGet: { path: readinessPath, port: 8080 },
            periodSeconds: 1,
            failureThreshold: 1,
          },
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    },
  };
}

function apply(obj: object): void {
  kubectl(["apply", "-f", "-"], JSON.stringify(obj));
}

/** Waits for a pod to be Ready; says why not (its events: a sandbox that fails, a probe) if it is not. */
async function ready(name: string, seconds: number): Promise<void> {
  await until(`pod ${name} Ready`, seconds, () => {
    const p = JSON.parse(kubectl(["get", "pod", name, "-n", NS, "-o", "json"])) as KubeObject;
    const cond = (p.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready");
    return cond?.status === "True" ? true : undefined;
  }).catch((e: Error) => {
    const events = kubectl([
      "get",
      "events",
      "-n",
      NS,
      "--field-selector",
      `involvedObject.name=${name}`,
      "-o",
      "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}",
    ]);
    throw new Error(`${e.message}\nits events:\n${events}`);
  });
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: r.status, body: await r.text() };
}

describe.skipIf(reason !== undefined)("the local cluster's real node", () => {
  let clusterIP = "";

  beforeAll(async () => {
    if (kubectlTry(["get", "namespace", NS]).status === 0) {
      kubectl(["delete", "namespace", NS, "--wait=true", "--timeout=120s"]);
    }
    apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: NS,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    });
    apply(pod("ready", "/healthz"));
    apply(pod("unready", "/missing"));
    apply({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "node-check", namespace: NS },
      spec: {
        type: "ClusterIP",
        selector: { app: "node-check" },
        ports: [{ name: "http", port: 80, targetPort: "http" }],
      },
    });
    clusterIP = kubectl([
      "get",
      "service",
      "node-check",
      "-n",
      NS,
      "-o",
      "jsonpath={.spec.clusterIP}",
    ]);
    await ready("ready", 180);
  }, 300_000);

  afterAll(() => {
    if (!reason) kubectlTry(["delete", "namespace", NS, "--wait=true", "--timeout=120s"]);
  }, 180_000);

  it("is tainted and labelled for the pods meant for it; the kwok nodes are not", () => {
    const nodes = getItems("nodes");
    const real = nodes.find((n) => n.metadata.name === NODE);
    expect(real?.spec.taints).toContainEqual({
      key: "monkeytown.dev/real-node",
      value: "true",
      effect: "NoSchedule",
    });
    expect(real?.metadata.labels?.["monkeytown.dev/real-node"]).toBe("true");
    expect(real?.status.nodeInfo.kubeletVersion).toBe("v1.37.2");
    expect(real?.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(real?.status.addresses).toContainEqual({ type: "InternalIP", address: "10.244.0.1" });
    const kwok = nodes.filter((n) => n.metadata.labels?.type === "kwok");
    expect(kwok.length).toBe(3);
    for (const n of kwok) expect(n.spec.taints ?? [], n.metadata.name).toEqual([]);
  });

  it("keeps a pod that does not tolerate the taint off it", async () => {
    const p = pod("no-toleration", "/healthz") as { spec: { tolerations?: unknown } };
    delete p.spec.tolerations;
    apply(p);
    const cond = await until("the scheduler's verdict", 60, () => {
      const got = JSON.parse(
        kubectl(["get", "pod", "no-toleration", "-n", NS, "-o", "json"]),
      ) as KubeObject;
      return (got.status?.conditions ?? []).find(
        (c: { type: string; reason?: string }) => c.type === "PodScheduled" && c.reason,
      ) as { status: string; reason: string; message: string } | undefined;
    });
    expect(cond.status).toBe("False");
    expect(cond.reason).toBe("Unschedulable");
    expect(cond.message).toContain("1 node(s) had untolerated taint(s)");
    kubectl(["delete", "pod", "no-toleration", "-n", NS, "--wait=false"]);
  });

  it("runs a pod from a local image, admitted as restricted, Ready by its readiness probe", () => {
    const p = JSON.parse(kubectl(["get", "pod", "ready", "-n", NS, "-o", "json"])) as KubeObject;
    expect(p.spec.nodeName).toBe(NODE);
    expect(p.status.podIP).toMatch(/^10\.244\.0\.\d+$/);
    const [c] = p.status.containerStatuses;
    expect(c.ready).toBe(true);
    expect(c.restartCount).toBe(0);
    expect(c.state.running).toBeDefined();
    expect(c.image).toBe(IMAGE);
    expect(c.imageID).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("runs the readiness probe for real: a pod whose probe gets a 404 never becomes Ready", async () => {
    const events = await until("the unready pod's failed probe", 60, () => {
      const out = kubectl([
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        "involvedObject.name=unready,reason=Unhealthy",
        "-o",
        "jsonpath={.items[*].message}",
      ]);
      return out.includes("Readiness probe failed") ? out : undefined;
    });
    expect(events).toContain("HTTP probe failed with statuscode: 404");
    const p = JSON.parse(kubectl(["get", "pod", "unready", "-n", NS, "-o", "json"])) as KubeObject;
    expect(p.status.containerStatuses[0].state.running).toBeDefined();
    expect(p.status.containerStatuses[0].ready).toBe(false);
    const slices = getItems("endpointslices", NS).filter(
      (s) => s.metadata.labels?.["kubernetes.io/service-name"] === "node-check",
    );
    const endpoints = slices.flatMap(
      (s) =>
        (
          s as unknown as {
            endpoints: { targetRef: { name: string }; conditions: { ready: boolean } }[];
          }
        ).endpoints ?? [],
    );
    expect(
      Object.fromEntries(endpoints.map((e) => [e.targetRef.name, e.conditions.ready])),
    ).toEqual({ ready: true, unready: false });
  });

  it("is reachable from the host through its ClusterIP (kube-proxy), only on the ready pod", async () => {
    expect(clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    // kube-proxy writes the Service's rules within a second or so of the endpoint becoming ready.
    // Until it has, the address is not local: the request leaves by the default route, and what
    // answers there (a 404 from this VM's gateway) is not the pod.
    const health = await until(
      "the pod's /healthz through the Service from the host",
      60,
      async () => {
        const r = await get(`http://${clusterIP}/healthz`);
        if (r.status !== 200) throw new Error(`last answer: ${r.status} ${JSON.stringify(r.body)}`);
        return r;
      },
    );
    expect(health).toEqual({ status: 200, body: "ok\n" });
    const served: string[] = [];
    for (let i = 0; i < 10; i++) served.push((await get(`http://${clusterIP}/cgi-bin/name`)).body);
    expect(new Set(served)).toEqual(new Set(["ready\n"]));
    expect((await get(`http://${clusterIP}/missing.js`)).status).toBe(404);
  });

  it("answers kubectl logs and kubectl exec through its kubelet", () => {
    expect(kubectl(["logs", "ready", "-n", NS])).toMatch(/response:200/);
    expect(kubectl(["exec", "ready", "-n", NS, "--", "id", "-u"]).trim()).toBe("1001");
    expect(kubectl(["exec", "ready", "-n", NS, "--", "cat", "/www/index.html"])).toBe(
      "monkeytown node-check\n",
    );
    const write = kubectlTry(["exec", "ready", "-n", NS, "--", "touch", "/www/written"]);
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain("Read-only file system");
  });
});
