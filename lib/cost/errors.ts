/**
 * A mistake in what the user asked the cost estimate for: a region without prices, an
 * instance type without a price, a bad option value. The CLI prints its message alone, with
 * no stack trace, and exits non-zero.
 */
export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CostError';
  }
}
