import { historyFromRows, thin } from '../../../services/results/history';

const row = (snapshot: number, variation: string, lift: number, phase = 0) => ({
  snapshot_id: `s${snapshot}`,
  snapshot_at: { value: new Date(Date.UTC(2026, 0, 1, 0, snapshot)).toISOString() },
  phase,
  metric: 'orders',
  metric_role: 'primary',
  variation_id: variation,
  baseline_variation_id: 'blue',
  is_baseline: false,
  units: 100 * snapshot,
  lift,
  lift_ci_lower: lift - 0.1,
  lift_ci_upper: lift + 0.1,
  p_value: 0.2,
  chance_to_win: null,
  significant: false,
});

describe('results history', () => {
  it('groups snapshots into one series per metric and variant, in time order, each snapshot once', () => {
    const rows = [row(2, 'green', 0.05), row(1, 'green', 0.1), row(1, 'green', 0.1), row(1, 'red', -0.02)];
    const h = historyFromRows('btn', rows);
    expect(h.phase).toBe(0);
    expect(h.snapshots).toBe(2);
    expect(h.series.map((s) => [s.metric, s.variationId, s.points.map((p) => p.lift)])).toEqual([
      ['orders', 'green', [0.1, 0.05]],
      ['orders', 'red', [-0.02]],
    ]);
    expect(h.series[0]!.points[0]).toEqual({
      snapshotAt: '2026-01-01T00:01:00.000Z',
      snapshotId: 's1',
      units: 100,
      lift: 0.1,
      liftCiLower: 0.1 - 0.1,
      liftCiUpper: 0.1 + 0.1,
      pValue: 0.2,
      chanceToWin: null,
      significant: false,
    });
  });

  it('keeps the newest phase unless one is asked for; reads microsecond timestamps', () => {
    const old = row(1, 'green', 0.3, 0);
    const current = { ...row(2, 'green', 0.1, 1), snapshot_at: '1767225720000000' };
    expect(historyFromRows('btn', [old, current]).series[0]!.points.map((p) => p.snapshotAt)).toEqual([
      '2026-01-01T00:02:00.000Z',
    ]);
    expect(historyFromRows('btn', [old, current], { phase: 0 }).series[0]!.points[0]!.lift).toBe(0.3);
    expect(historyFromRows('btn', [])).toEqual({
      experimentKey: 'btn',
      phase: null,
      snapshots: 0,
      series: [],
    });
  });

  it('thins long series evenly, keeping the first and the newest point', () => {
    const points = Array.from({ length: 1000 }, (_, i) => i);
    const kept = thin(points, 5);
    expect(kept).toEqual([0, 250, 500, 749, 999]);
    expect(thin([1, 2, 3], 5)).toEqual([1, 2, 3]);
  });
});
