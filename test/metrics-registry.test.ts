import { expect, it } from 'vitest';
import { MetricsRegistry } from '../common/metrics.ts';

it('renders counters and gauges in Prometheus text format with escaped labels', () => {
  const m = new MetricsRegistry();
  const c = m.counter('fm_test_total', 'A test counter');
  c.inc({ device: 'T1-tank' });
  c.inc({ device: 'T1-tank' }, 2);
  c.inc({ device: 'say "hi"\\n' });
  m.gauge('fm_test_depth', 'A gauge').set(7);
  const text = m.render();
  expect(text).toContain('# TYPE fm_test_total counter');
  expect(text).toContain('fm_test_total{device="T1-tank"} 3');
  expect(text).toContain('fm_test_total{device="say \\"hi\\"\\\\n"} 1');
  expect(text).toContain('fm_test_depth 7');
  expect(m.counter('fm_test_total', 'again')).toBe(c);
});

it('summarises observations with quantiles of the recent window, sum and count', () => {
  const m = new MetricsRegistry();
  const s = m.summary('fm_test_seconds', 'A summary');
  for (let i = 1; i <= 100; i++) s.observe(i / 1000);
  expect(s.quantile(0.5)).toBeCloseTo(0.051, 6);
  expect(s.quantile(0.99)).toBeCloseTo(0.1, 6);
  const text = m.render();
  expect(text).toContain('# TYPE fm_test_seconds summary');
  expect(text).toContain('fm_test_seconds{quantile="0.99"} 0.1');
  expect(text).toContain('fm_test_seconds_count 100');
  // Only the last 1,024 observations count for the quantiles.
  for (let i = 0; i < 1024; i++) s.observe(5);
  expect(s.quantile(0.5)).toBe(5);
  expect(s.count).toBe(1124);
});

it('refreshes read-only gauges through collectors before rendering', () => {
  const m = new MetricsRegistry();
  let depth = 1;
  const g = m.gauge('fm_test_pending', 'Pending');
  m.onCollect(() => g.set(depth));
  depth = 42;
  expect(m.render()).toContain('fm_test_pending 42');
});
