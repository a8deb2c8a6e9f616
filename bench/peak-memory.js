// Preloaded by bench/bench.ts into the app process: writes its peak RSS (KiB) to BENCH_PEAK_FILE on exit.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  if (process.env.BENCH_PEAK_FILE) writeFileSync(process.env.BENCH_PEAK_FILE, String(process.resourceUsage().maxRSS));
});
