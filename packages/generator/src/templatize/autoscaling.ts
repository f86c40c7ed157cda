import type { ChartModel } from './chart-model.js';
import { camelCase } from '../core/util.js';
import { assignWorkloadKeys } from './workloads.js';

/**
 * HorizontalPodAutoscalers from values: `autoscaling.<hpa>` sets minReplicas and maxReplicas (upstream's
 * by default) or turns the HPA off (`enabled: false`), and while one scales a workload, a `replicas`
 * value other than upstream's for that workload fails the render naming both paths (the HPA would
 * override it silently).
 */
export function bindAutoscaling(m: ChartModel): void {
  const hpas = m.objects.filter((o) => o.sample.kind === 'HorizontalPodAutoscaler' && !o.crd);
  if (!hpas.length) return;
  const workloadKeys = assignWorkloadKeys(m.objects.map((o) => o.sample));
  const values: Record<string, { enabled: boolean; minReplicas: number; maxReplicas: number }> = {};
  const checks: string[] = [];
  for (const o of hpas) {
    const key = camelCase(o.sample.name);
    const expr = `.Values.autoscaling.${key}`;
    let first: any;
    for (const b of o.branches) {
      const spec = b.content?.doc?.spec;
      if (!spec) continue;
      first ??= { min: spec.minReplicas ?? 1, max: spec.maxReplicas };
      const t = b.content!.t;
      // upstream may leave minReplicas to its default (1): printed only when the value differs
      if (spec.minReplicas === undefined) spec[t.key((i) => `${' '.repeat(i)}{{- if ne (int ${expr}.minReplicas) 1 }}\n${' '.repeat(i)}minReplicas: {{ ${expr}.minReplicas }}\n${' '.repeat(i)}{{- end }}`)] = null;
      else spec.minReplicas = t.raw(`{{ ${expr}.minReplicas }}`);
      spec.maxReplicas = t.raw(`{{ ${expr}.maxReplicas }}`);
      const target = spec.scaleTargetRef;
      const w = m.objects.find((x) => x.sample.kind === target?.kind && x.sample.name === target?.name && x.sample.namespace === o.sample.namespace);
      const wkey = w && workloadKeys.get(w.key);
      const upstream = wkey && (m.values[wkey] as { replicas?: unknown } | undefined)?.replicas;
      if (wkey && upstream !== undefined && !checks.some((c) => c.includes(`.Values.${wkey}.replicas`)))
        checks.push(
          `{{- if and ${expr}.enabled ${upstream === null ? `(not (kindIs "invalid" .Values.${wkey}.replicas))` : `(ne (toString .Values.${wkey}.replicas) ${JSON.stringify(String(upstream))})`} }}{{- fail ${JSON.stringify(`${wkey}.replicas is not honoured while HorizontalPodAutoscaler ${o.sample.name} scales ${target.kind} ${target.name}: set autoscaling.${key}.minReplicas/maxReplicas, or autoscaling.${key}.enabled: false`)} }}{{- end }}`,
        );
    }
    if (!first) continue;
    o.when.push(`${expr}.enabled`);
    values[key] = { enabled: true, minReplicas: first.min, maxReplicas: first.max };
    checks.push(`{{- if and ${expr}.enabled (gt (int ${expr}.minReplicas) (int ${expr}.maxReplicas)) }}{{- fail ${JSON.stringify(`autoscaling.${key}.minReplicas is above autoscaling.${key}.maxReplicas`)} }}{{- end }}`);
  }
  m.values.autoscaling = values;
  m.properties.autoscaling = {
    description: "The chart's HorizontalPodAutoscalers, by name: their replica range, or off (the workload then runs its `replicas`).",
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      Object.keys(values).map((k) => [
        k,
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { description: 'Render the HorizontalPodAutoscaler.', type: 'boolean' },
            minReplicas: { description: 'Fewest replicas.', type: 'integer', minimum: 1, maximum: 2147483647 },
            maxReplicas: { description: 'Most replicas.', type: 'integer', minimum: 1, maximum: 2147483647 },
          },
        },
      ]),
    ),
  };
  m.files['templates/autoscaling-checks.yaml'] = `{{- /* autoscaling values that cannot be honoured fail here (templatize/autoscaling.ts) */}}\n${checks.join('\n')}\n`;
}
