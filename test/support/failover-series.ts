/**
 * Analysis of the stand-in archivers' sample series: each stand-in appends `{node, t, seq}` at 10 Hz while active;
 * a new stand-in process starts again at seq 0. A *run* is one stand-in process's samples. The figures a facility
 * reads off its archive after a failover test: takeover time, the largest Δt gap, and samples written while
 * another node was also writing.
 */

/** One sample line. */
export interface Sample {
  readonly node: string;
  readonly t: number;
  readonly seq: number;
}

/** One stand-in process's samples: who, first and last sample time. */
export interface Run {
  readonly node: string;
  readonly first: number;
  readonly last: number;
  readonly count: number;
}

/** Parse sample lines (blank and torn lines are skipped: a killed writer may leave half a line). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as Partial<Sample>;
      if (typeof v.node === 'string' && typeof v.t === 'number' && typeof v.seq === 'number') {
        out.push({ node: v.node, t: v.t, seq: v.seq });
      }
    } catch {
      // torn line
    }
  }
  return out;
}

/** Split each node's samples (in file order) into runs at every restart of seq. */
export function runsOf(samples: readonly Sample[]): Run[] {
  const runs: Run[] = [];
  const open = new Map<string, { node: string; first: number; last: number; count: number; seq: number }>();
  for (const s of samples) {
    const cur = open.get(s.node);
    if (cur !== undefined && s.seq > cur.seq) {
      cur.last = s.t;
      cur.count++;
      cur.seq = s.seq;
      continue;
    }
    if (cur !== undefined) runs.push({ node: cur.node, first: cur.first, last: cur.last, count: cur.count });
    open.set(s.node, { node: s.node, first: s.t, last: s.t, count: 1, seq: s.seq });
  }
  for (const cur of open.values()) runs.push({ node: cur.node, first: cur.first, last: cur.last, count: cur.count });
  return runs.sort((a, b) => a.first - b.first);
}

/** Samples written while a run of another node was under way (its first ≤ t ≤ its last): two nodes active at once. */
export function overlapSamples(samples: readonly Sample[]): Sample[] {
  const runs = runsOf(samples);
  return samples.filter((s) => runs.some((r) => r.node !== s.node && r.first <= s.t && s.t <= r.last));
}

/** The largest Δt between consecutive samples of the merged series (ms), optionally within [from, to]. */
export function maxGapMs(samples: readonly Sample[], from = -Infinity, to = Infinity): number {
  const ts = samples.map((s) => s.t).filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < ts.length; i++) gap = Math.max(gap, (ts[i] ?? 0) - (ts[i - 1] ?? 0));
  return gap;
}

/** Figures of one failover: takeover = first sample of another node after the fault, minus the fault time. */
export interface FailoverFigures {
  readonly victim: string;
  readonly successor: string | null;
  readonly takeoverMs: number | null;
  readonly maxGapMs: number;
  readonly overlapSamples: number;
  /** The victim's last sample after the fault, minus the fault time (how long it kept writing). */
  readonly victimTailMs: number | null;
}

/** Analyse a series around a fault injected at `faultAt` on `victim`. */
export function failoverFigures(samples: readonly Sample[], victim: string, faultAt: number): FailoverFigures {
  const after = samples.filter((s) => s.t >= faultAt).sort((a, b) => a.t - b.t);
  const next = after.find((s) => s.node !== victim);
  const victimAfter = after.filter((s) => s.node === victim);
  const lastVictim = victimAfter[victimAfter.length - 1];
  return {
    victim,
    successor: next?.node ?? null,
    takeoverMs: next === undefined ? null : next.t - faultAt,
    maxGapMs: maxGapMs(samples),
    overlapSamples: overlapSamples(samples).length,
    victimTailMs: lastVictim === undefined ? null : lastVictim.t - faultAt,
  };
}
