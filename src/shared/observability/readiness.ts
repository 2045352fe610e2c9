export interface ReadinessCheck {
  name: string;
  run(): Promise<{ ok: boolean; detail?: string }>;
}

/** Other modules (projections) register what `/health/ready` must also check. */
export class ReadinessChecks {
  private readonly checks: ReadinessCheck[] = [];
  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }
  all(): readonly ReadinessCheck[] {
    return this.checks;
  }
}
