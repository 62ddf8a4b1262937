import { hash32, type Prng } from './prng.js';

/** Kubernetes' pod-name suffix alphabet (k8s.io/apimachinery rand.String: no vowels, no 0/1/3). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A stable 10-hex ReplicaSet hash for a deployment (like pod-template-hash). */
export function replicaSetHash(namespace: string, deployment: string): string {
  const a = hash32(`${namespace}/${deployment}`).toString(16).padStart(8, '0');
  const b = hash32(`rs:${deployment}/${namespace}`).toString(16).padStart(8, '0');
  return (a + b).slice(0, 10);
}

/** `<deployment>-<rsHash>-<5 chars>`, unique among `taken`. */
export function newPodName(deployment: string, rsHash: string, prng: Prng, taken: ReadonlySet<string>): string {
  for (;;) {
    let suffix = '';
    for (let i = 0; i < 5; i++) suffix += SUFFIX_ALPHABET[prng.int(0, SUFFIX_ALPHABET.length - 1)];
    const name = `${deployment}-${rsHash}-${suffix}`;
    if (!taken.has(name)) return name;
  }
}
