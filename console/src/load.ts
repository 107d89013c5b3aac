import { useEffect, useState } from 'preact/hooks';
import { errorText } from './ui';

/** Loads data for a page: [data, error text, reload]. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    load().then(
      (d) => (setData(d), setError(null)),
      (e) => setError(errorText(e)),
    );
  }, [...deps, tick]);
  return [data, error, () => setTick((t) => t + 1)];
}
