// deploy/kubernetes/ played with `podman kube play` (podman 4.3), file by file in kustomization.yaml's
// order. What podman does with them, and what stands in for what it lacks:
// - ConfigMaps, claims, envFrom, securityContext, readOnlyRootFilesystem and probes run as written.
//   Services, NetworkPolicies and PodDisruptionBudgets are skipped without a word.
// - Deployments: each is played as the pods Kubernetes would make of it (`<deployment>-pod-<i>`, the
//   names 4.3 itself gives, containers `<pod>-<container>`), each with emptyDirs of its own. 4.3 plays
//   a Deployment's emptyDir as one named volume (the volume's name) mounted in every pod, so 3
//   gateways would share one data dir (one LMDB file opened by three processes that are all PID 1 in
//   their namespaces), one HOME (the CLI's session transcripts: a turn resumed on another replica
//   would find what on Kubernetes it cannot) and one /tmp. Here each pod's emptyDir is a volume
//   named `<pod>-<volume>`, empty at the play, removed after.
// - Services: each gets a stand-in, an haproxy container on the pods' network under the Service's
//   name, forwarding its port to the pods of its selector (TCP, as kube-proxy does; the readiness
//   probe's httpGet as haproxy's check).
// - Secrets: 4.3's kube play stores a Secret YAML in a form its own env lookup then cannot read; the
//   Secret is made as `podman secret create` of its data as JSON (base64 values), which it reads.
// - Two things are taken out of the copy podman plays (playable()): the env entries using the pod IP
//   (`fieldRef: status.podIP` stops the play, "not valid or not supported", and `$(VAR)` in env
//   values is not expanded), so GATEWAY_ADVERTISE_URL falls back to the gateway's default; and the
//   containers' `ports` (4.3 publishes each containerPort on the host's same port, so the second
//   replica fails with "address already in use"; the Service stand-ins read the ports from the files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { podman } from './podman.js';
import { ROOT } from './support.js';

export const KUBE_DIR = path.join(ROOT, 'deploy/kubernetes');
const HAPROXY_IMAGE = 'docker.io/library/haproxy:2.6';

type Doc = Record<string, any>;
export interface KubeFile {
  file: string;
  docs: Doc[];
}

/** The files kustomization.yaml lists, in its order, each with its documents. */
export function kubeFiles(): KubeFile[] {
  const kustomization = parseAllDocuments(fs.readFileSync(path.join(KUBE_DIR, 'kustomization.yaml'), 'utf8'))[0].toJS();
  return (kustomization.resources as string[]).map((r) => {
    const file = path.join(KUBE_DIR, r);
    return { file, docs: parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean) };
  });
}

export const ofKind = (files: KubeFile[], kind: string): Doc[] => files.flatMap((f) => f.docs.filter((d) => d.kind === kind));

/** The pods podman makes for a Deployment, and the container names within them. */
export function podsOf(deployment: Doc): { pod: string; containers: string[] }[] {
  const n = deployment.spec.replicas ?? 1;
  const names = (deployment.spec.template.spec.containers as Doc[]).map((c) => c.name as string);
  return Array.from({ length: n }, (_, i) => {
    const pod = `${deployment.metadata.name}-pod-${i}`;
    return { pod, containers: names.map((c) => `${pod}-${c}`) };
  });
}

export async function ipOf(container: string, network: string): Promise<string> {
  const r = await podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);
  return r.stdout.trim();
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** haproxy's configuration standing in for one Service: its port to the target port of each pod. */
export async function serviceStandInConfig(svc: Doc, files: KubeFile[], network: string): Promise<string> {
  const deployments = ofKind(files, 'Deployment').filter((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
  const lines = ['global', '    log stdout format raw local0 warning', 'defaults', '    mode tcp', '    log global', '    timeout connect 5s', '    timeout client 11m', '    timeout server 11m'];
  for (const port of svc.spec.ports as Doc[]) {
    lines.push(`listen ${svc.metadata.name}-${port.name ?? port.port}`, `    bind :${port.port}`, '    balance roundrobin');
    const servers: string[] = [];
    for (const d of deployments) {
      const c0 = d.spec.template.spec.containers as Doc[];
      const target = typeof port.targetPort === 'string' ? c0.flatMap((c) => c.ports ?? []).find((p: Doc) => p.name === port.targetPort)?.containerPort : (port.targetPort ?? port.port);
      if (!target) throw new Error(`Service ${svc.metadata.name}: no container port named ${port.targetPort}`);
      const http = c0[0].readinessProbe?.httpGet;
      if (http) lines.push('    option httpchk', `    http-check send meth GET uri ${http.path}`, '    http-check expect status 200');
      for (const { pod, containers } of podsOf(d)) servers.push(`    server ${pod} ${await ipOf(containers[0], network)}:${target} check inter 2s fall 1 rise 1`);
    }
    lines.push(...servers);
  }
  return lines.join('\n') + '\n';
}

/** Starts the stand-in for a Service (named `<prefix>-svc-<name>`, reachable as `<name>`). */
export async function startServiceStandIn(svc: Doc, files: KubeFile[], network: string, prefix: string, publish?: { hostPort: number; port: number }): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-svc-'));
  fs.chmodSync(dir, 0o755);
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, await serviceStandInConfig(svc, files, network), { mode: 0o644 });
  const name = `${prefix}-svc-${svc.metadata.name}`;
  const pub = publish ? ['-p', `127.0.0.1:${publish.hostPort}:${publish.port}`] : [];
  await podman(['run', '-d', '--name', name, '--network', network, '--network-alias', svc.metadata.name, ...pub, '-v', `${cfg}:/usr/local/etc/haproxy/haproxy.cfg:ro`, HAPROXY_IMAGE]);
  return name;
}

/** The Secret a user makes with `kubectl create secret generic NAME --from-literal=K=V ...`, made podman's way. */
export async function createSecret(name: string, data: Record<string, string>): Promise<void> {
  const json = JSON.stringify(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])));
  await podman(['secret', 'rm', name], { allowFail: true });
  // From a file: podman reads `-` only from a FIFO, and node's stdin pipes are sockets.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-secret-'));
  try {
    fs.writeFileSync(path.join(dir, 'data.json'), json, { mode: 0o600 });
    await podman(['secret', 'create', name, path.join(dir, 'data.json')]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The file as podman 4.3 can play it, what was taken out, and the volumes podman will make for it:
 * each Deployment as its pods (an emptyDir of their own each, see above), without the env entries
 * from `fieldRef: status.podIP` and those that refer to them as `$(NAME)`, and without `ports`. The
 * rest is the file as written.
 */
export function playable(f: KubeFile): { yaml: string; removed: string[]; volumes: string[] } {
  const removed: string[] = [];
  const volumes: string[] = [];
  const docs = f.docs.flatMap((d) => {
    if (d.kind !== 'Deployment') return [d];
    const template = structuredClone(d.spec.template) as Doc;
    for (const c of template.spec.containers as Doc[]) {
      if (c.ports) removed.push(`${d.metadata.name}/${c.name}: ports`);
      delete c.ports;
      const gone = new Set((c.env ?? []).filter((e: Doc) => e.valueFrom?.fieldRef?.fieldPath === 'status.podIP').map((e: Doc) => e.name as string));
      c.env = (c.env ?? []).filter((e: Doc) => {
        const drop = gone.has(e.name) || [...gone].some((g) => String(e.value ?? '').includes(`$(${g})`));
        if (drop) removed.push(`${d.metadata.name}/${c.name}: ${e.name}`);
        return !drop;
      });
    }
    return podsOf(d).map(({ pod }) => {
      const spec = structuredClone(template.spec) as Doc;
      const own = new Map<string, string>();
      for (const v of (spec.volumes ?? []) as Doc[]) {
        if (v.emptyDir) own.set(v.name, `${pod}-${v.name}`);
        if (v.persistentVolumeClaim) volumes.push(v.persistentVolumeClaim.claimName);
        v.name = own.get(v.name) ?? v.name;
      }
      for (const c of spec.containers as Doc[]) for (const m of (c.volumeMounts ?? []) as Doc[]) m.name = own.get(m.name) ?? m.name;
      volumes.push(...own.values());
      return { apiVersion: 'v1', kind: 'Pod', metadata: { ...template.metadata, name: pod }, spec };
    });
  });
  return { yaml: docs.map((d) => stringify(d)).join('---\n'), removed, volumes };
}
