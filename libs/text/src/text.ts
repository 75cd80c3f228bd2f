/**
 * Text folding for matching what users type (pt-BR and English, often without accents, with
 * typos) against stored names and keywords. One home, so every matcher folds the same way.
 */

/** Lower case without diacritics: "João" → "joao". Keeps every other character. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** `fold`, then anything but letters and digits becomes one space: "Dra. Lima-Souza!" → "dra lima souza". */
export function foldWords(text: string): string {
  return fold(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters cost 1 each ("fernadna" is 1 away from "fernanda").
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows (i-2, i-1, i) instead of the full matrix.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      }
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
