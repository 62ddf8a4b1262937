/**
 * Who leads: the contract between the sources of leadership (a Kubernetes Lease in kube/, a
 * Redis lock in cache/) and what depends on it (the compute role, the status writer). A source
 * must tell every transition to its listeners; `isLeader()` is cheap and may be called often.
 */
export interface LeadershipSource {
  isLeader(): boolean;
  /** Returns a function that removes the listener. */
  onChange(listener: (leader: boolean) => void): () => void;
}

/** Leadership when election is off, or when there is no one to elect against: always the leader. */
export class AlwaysLeader implements LeadershipSource {
  isLeader(): boolean {
    return true;
  }
  onChange(): () => void {
    return () => undefined;
  }
}
