/** Keeps the digits only: `123.456.789-09` → `12345678909`. */
export function normalizeCpf(input: string): string {
  return input.replace(/\D/g, '');
}

/** Eleven digits, not all equal, both mod-11 check digits right. */
export function isValidCpf(input: string): boolean {
  const c = normalizeCpf(input);
  if (!/^\d{11}$/.test(c) || /^(\d)\1{10}$/.test(c)) {
    return false;
  }
  const digit = (len: number): number => {
    let s = 0;
    for (let i = 0; i < len; i++) {
      s += Number(c[i]) * (len + 1 - i);
    }
    const d = (s * 10) % 11;
    return d === 10 ? 0 : d;
  };
  return digit(9) === Number(c[9]) && digit(10) === Number(c[10]);
}

/** A valid CPF from nine base digits (synthetic data and tests). */
export function makeCpf(base9: string): string {
  const b = base9.padStart(9, '0').slice(0, 9);
  const digit = (digits: string): number => {
    let s = 0;
    for (let i = 0; i < digits.length; i++) {
      s += Number(digits[i]) * (digits.length + 1 - i);
    }
    const d = (s * 10) % 11;
    return d === 10 ? 0 : d;
  };
  const d1 = digit(b);
  return `${b}${d1}${digit(b + d1)}`;
}
