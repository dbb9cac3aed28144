// Test support for the fuzz and soak tests: counts cases by kind and outcome, so a run reports
// how many bad inputs of each kind it tried and what they got. Not used by production code.

export class FuzzTally {
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(readonly name: string) {}

  record(kind: string, outcome: string): void {
    let byOutcome = this.counts.get(kind);
    if (byOutcome === undefined) this.counts.set(kind, (byOutcome = new Map()));
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  }

  total(kind?: string): number {
    let sum = 0;
    for (const [k, byOutcome] of this.counts) {
      if (kind === undefined || k === kind) for (const n of byOutcome.values()) sum += n;
    }
    return sum;
  }

  /** Outcome -> count for one kind (empty when the kind never ran). */
  outcomes(kind: string): ReadonlyMap<string, number> {
    return this.counts.get(kind) ?? new Map();
  }

  /** One line: `name: N cases; kind 120 (INVALID_PIPELINE 118, ok 2); ...`. */
  summary(): string {
    const parts = [...this.counts.entries()].map(([kind, byOutcome]) => {
      const n = [...byOutcome.values()].reduce((a, b) => a + b, 0);
      const outcomes = [...byOutcome.entries()].sort((a, b) => b[1] - a[1]).map(([o, c]) => `${o} ${c}`).join(', ');
      return `${kind} ${n} (${outcomes})`;
    });
    return `${this.name}: ${this.total()} cases; ${parts.join('; ')}`;
  }

  print(): void {
    console.log(`[fuzz-summary] ${this.summary()}`);
  }
}
