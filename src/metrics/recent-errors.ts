// The last turn errors, for the dashboard: a fixed-size ring, newest first. Messages are the
// gateway's own (GatewayError messages are safe to show; never the CLI's raw text or a secret).
export interface RecentError {
  at: string;
  request_id?: string;
  route?: string;
  key?: string;
  model?: string;
  kind: string;
  code?: string;
  status: number;
  message: string;
}

export class RecentErrors {
  private readonly ring: RecentError[] = [];
  private next = 0;
  total = 0;

  constructor(private readonly capacity = 50) {}

  add(e: RecentError): void {
    this.total++;
    if (this.ring.length < this.capacity) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(): RecentError[] {
    const n = this.ring.length;
    const out: RecentError[] = [];
    for (let i = 1; i <= n; i++) out.push(this.ring[(this.next - i + n) % n]);
    return out;
  }
}
