import { once } from 'node:events';
import type { Command } from 'commander';
import { stopSignal } from '../context.js';
import { intOption, rateOption } from '../options.js';

interface SimFlags {
  port: number;
  host: string;
  accounts: number;
  apiKey: string;
  rateLimit: number;
  rateAligned?: boolean;
  rateWindowMs: number;
  error500Rate: number;
  error503Rate: number;
  latencyMs: number;
  latencyJitterMs: number;
  dropRate: number;
  hangRate: number;
  lostRate: number;
}

export function registerSim(program: Command): void {
  program
    .command('sim')
    .description('run the Sendmux API simulator (for demos, tests and benchmarks) until SIGINT')
    .option('--port <n>', 'port to listen on', intOption('--port', 0, 65_535), 4010)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--accounts <n>', 'seeded sending accounts', intOption('--accounts', 0, 1_000_000), 50)
    .option('--api-key <key>', 'accepted bearer token', 'smx_root_sim_key')
    .option(
      '--rate-limit <n>',
      'requests per window per key (0 = none)',
      intOption('--rate-limit', 0),
      600,
    )
    .option('--rate-window-ms <ms>', 'rate-limit window', intOption('--rate-window-ms', 1), 60_000)
    .option('--rate-aligned', "align rate windows to the clock (not to a key's first request)")
    .option(
      '--error500-rate <p>',
      'probability of a 500 on actions',
      rateOption('--error500-rate'),
      0,
    )
    .option(
      '--error503-rate <p>',
      'probability of a 503 on actions',
      rateOption('--error503-rate'),
      0,
    )
    .option('--latency-ms <ms>', 'added latency on actions', intOption('--latency-ms', 0), 0)
    .option(
      '--latency-jitter-ms <ms>',
      'extra random latency',
      intOption('--latency-jitter-ms', 0),
      0,
    )
    .option(
      '--drop-rate <p>',
      'probability of dropping the connection',
      rateOption('--drop-rate'),
      0,
    )
    .option('--hang-rate <p>', 'probability of never answering', rateOption('--hang-rate'), 0)
    .option(
      '--lost-rate <p>',
      'probability of executing, then dropping the connection (answer lost, replayable)',
      rateOption('--lost-rate'),
      0,
    )
    .action(async (flags: SimFlags) => {
      // Before anything is printed: a signal right after "listening" must stop it cleanly.
      const signal = stopSignal();
      // Loaded here, not at start: every other command (the worker) runs without fastify.
      const { simAccountId, SIM_LOCKED_ID, SIM_SHARED_SES_ID, startSimulator } =
        await import('../../sim/index.js');
      const sim = await startSimulator({
        port: flags.port,
        host: flags.host,
        accounts: flags.accounts,
        apiKey: flags.apiKey,
        rateLimit: flags.rateLimit,
        rateWindowMs: flags.rateWindowMs,
        rateAligned: flags.rateAligned,
        faults: {
          error500Rate: flags.error500Rate,
          error503Rate: flags.error503Rate,
          latencyMs: flags.latencyMs,
          latencyJitterMs: flags.latencyJitterMs,
          dropRate: flags.dropRate,
          hangRate: flags.hangRate,
          lostRate: flags.lostRate,
        },
      });
      const seeded =
        flags.accounts > 0
          ? `${simAccountId(1)} .. ${simAccountId(flags.accounts)}, ${SIM_SHARED_SES_ID} (shared SES), ${SIM_LOCKED_ID} (locked: 409)`
          : `${SIM_SHARED_SES_ID} (shared SES), ${SIM_LOCKED_ID} (locked: 409)`;
      process.stdout.write(
        [
          `simulator listening: SENDMUX_BASE_URL=${sim.url} (stats: ${sim.origin}/__sim/stats)`,
          `  API key:  SENDMUX_API_KEY=${flags.apiKey}   (the simulator's own key, not a real one)`,
          `  accounts: ${seeded}`,
          `  try:      SENDMUX_BASE_URL=${sim.url} SENDMUX_API_KEY=${flags.apiKey} sendmux-deactivator worker`,
          `            sendmux-deactivator deactivate ${simAccountId(1)} --wait`,
          '',
        ].join('\n'),
      );
      await once(signal, 'abort');
      await sim.close();
      process.stdout.write('simulator stopped\n');
    });
}
