/**
 * The admin key bench clusters run with (a static key: GRIDLINE_ADMIN_KEY / `adminKey`), and the
 * header gridline-side clients send. Baselines ignore the header; its check is part of what the
 * gridline side is measured with.
 */
export const BENCH_ADMIN_KEY = 'gridline-bench-admin-key-0123456789abcdef';
export const BENCH_AUTHORIZATION = `Bearer ${BENCH_ADMIN_KEY}`;
