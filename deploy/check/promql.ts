import { parser } from '@prometheus-io/lezer-promql';

/**
 * One PromQL expression through Prometheus' own grammar (the Lezer parser
 * its web UI uses): the syntax errors it finds, and the metric names its
 * selectors read. A selector without a metric name (`{__name__=~...}`) is an
 * error here: every series the rules read must be checkable by name.
 */
export function readPromQL(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics = new Set<string>();
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.from + 20)}"`);
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) metrics.add(expr.slice(name.from, name.to));
        else errors.push(`a selector without a metric name: ${expr.slice(node.from, node.to)}`);
      }
    },
  });
  return { errors, metrics: [...metrics] };
}

/**
 * Series the exporters in deploy/observability/prometheus.yml document, as
 * their docs name them (not our code, so not found by source-facts.ts).
 */
export const EXPORTER_METRICS: Record<string, string> = {
  up: 'Prometheus itself: 1 when the last scrape of the target worked',
  rabbitmq_detailed_queue_messages: 'rabbitmq_prometheus, /metrics/detailed family queue_coarse_metrics',
  rabbitmq_detailed_queue_messages_ready: 'rabbitmq_prometheus, /metrics/detailed family queue_coarse_metrics',
  rabbitmq_detailed_queue_consumers: 'rabbitmq_prometheus, /metrics/detailed family queue_consumer_count',
  rabbitmq_global_messages_dead_lettered_delivery_limit_total: 'rabbitmq_prometheus, /metrics (RabbitMQ >= 3.10 global counters)',
  rabbitmq_global_messages_dead_lettered_rejected_total: 'rabbitmq_prometheus, /metrics (RabbitMQ >= 3.10 global counters)',
  rabbitmq_global_messages_dead_lettered_expired_total: 'rabbitmq_prometheus, /metrics (RabbitMQ >= 3.10 global counters)',
  cnpg_collector_up: "CloudNativePG's instance exporter (port 9187): 1 when PostgreSQL answers",
};
