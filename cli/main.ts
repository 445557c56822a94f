import { parseArgs } from 'node:util';
import { ConfigError, loadCatalog, type Profile } from '../servers/catalog/index.js';
import { ExpectationsError } from '../matrix/expectations.js';
import { MatrixFileError } from '../matrix/schema.js';
import { describeProfile } from './format.js';
import { COMMAND_HELP, OVERVIEW } from './help.js';
import { commandCompare, commandMerge, commandReport } from './results.js';
import { commandRepro, commandRun, commandScenarios } from './run.js';
import { PROVIDERS, UsageError, oneOf, parseShard, positiveInteger, selectTargets, splitList } from './selection.js';
import { commandServe, commandVerify } from './verify.js';

const OPTIONS = {
  config: { type: 'string' },
  targets: { type: 'string' },
  scenarios: { type: 'string' },
  clients: { type: 'string' },
  client: { type: 'string' },
  provider: { type: 'string' },
  repeat: { type: 'string' },
  trace: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  results: { type: 'string' },
  id: { type: 'string' },
  'scenarios-dir': { type: 'string' },
  'allow-infra-errors': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command takes; anything else is a usage error. */
const ACCEPTS: Readonly<Record<string, readonly string[]>> = {
  run: ['targets', 'scenarios', 'clients', 'provider', 'repeat', 'trace', 'workers', 'shard', 'results', 'id', 'allow-infra-errors', 'config', 'scenarios-dir'],
  repro: ['client', 'results', 'config', 'scenarios-dir'],
  scenarios: ['provider', 'clients', 'json', 'config', 'scenarios-dir'],
  targets: ['targets', 'config'],
  report: ['results'],
  compare: ['results'],
  merge: ['results', 'id', 'allow-infra-errors'],
  verify: ['targets', 'config'],
  serve: ['json', 'config'],
};

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

async function profilesFor(configFile: string | undefined, targets: string | undefined): Promise<Profile[]> {
  const catalog = await loadCatalog(configFile ? { configFile } : {});
  const wanted = splitList(targets);
  if (wanted.length === 0) return catalog.profiles;
  const names = selectTargets(wanted.map((w) => (w.includes('@') ? w : `${w}@native`)), catalog.profiles.map((p) => `${p.name}@native`));
  return catalog.profiles.filter((p) => names.includes(`${p.name}@native`));
}

async function dispatch(command: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, strict: true });
  const args = positionals.slice(1);
  if (values.help) {
    process.stdout.write(COMMAND_HELP[command] ?? OVERVIEW);
    return 0;
  }
  const accepted = ACCEPTS[command];
  if (!accepted) throw new UsageError(`unknown command "${command}"; commands: ${Object.keys(ACCEPTS).join(', ')}`);
  const given = Object.keys(values).filter((k) => k !== 'help');
  const refused = given.filter((k) => !accepted.includes(k));
  if (refused.length > 0) throw new UsageError(`${command} does not take ${refused.map((k) => `--${k}`).join(', ')}\n\n${COMMAND_HELP[command]}`);
  const commandLine = ['smb-interop', ...argv];
  const env: NodeJS.ProcessEnv = values.config ? { SMB_INTEROP_CONFIG: values.config } : {};
  const scenariosDir = values['scenarios-dir'] ?? process.env.SMB_INTEROP_SCENARIOS_DIR;
  const dirOption = scenariosDir ? { scenariosDir } : {};
  switch (command) {
    case 'run':
      return commandRun({
        targets: splitList(values.targets),
        scenarios: splitList(values.scenarios),
        clients: splitList(values.clients),
        ...optional('provider', oneOf(values.provider, PROVIDERS, '--provider')),
        repeat: positiveInteger(values.repeat, '--repeat'),
        trace: oneOf(values.trace, ['on', 'off', 'retain-on-failure'] as const, '--trace') ?? 'retain-on-failure',
        workers: positiveInteger(values.workers, '--workers'),
        shard: parseShard(values.shard),
        allowInfraErrors: values['allow-infra-errors'] === true,
        commandLine,
        env,
        ...(values.results ? { resultsDir: values.results } : {}),
        ...(values.id ? { runId: values.id } : {}),
        ...dirOption,
      });
    case 'repro': {
      const [target, scenario] = args;
      if (!target || !scenario || args.length > 2) throw new UsageError(`repro needs TARGET and SCENARIO\n\n${COMMAND_HELP.repro}`);
      return commandRepro({ target, scenario, client: values.client ?? 'smb-ts', commandLine, env, ...dirOption, ...(values.results ? { resultsDir: values.results } : {}) });
    }
    case 'scenarios':
      return commandScenarios({ ...optional('provider', oneOf(values.provider, PROVIDERS, '--provider')), clients: splitList(values.clients), json: values.json === true, env, ...dirOption });
    case 'targets':
      for (const p of await profilesFor(values.config, values.targets)) process.stdout.write(`${describeProfile(p)}\n`);
      return 0;
    case 'report':
      return commandReport(args[0], { ...(values.results ? { resultsDir: values.results } : {}) });
    case 'compare':
      return commandCompare(args[0], args[1], { ...(values.results ? { resultsDir: values.results } : {}) });
    case 'merge':
      return commandMerge(args, {
        allowInfraErrors: values['allow-infra-errors'] === true,
        commandLine,
        ...(values.results ? { resultsDir: values.results } : {}),
        ...(values.id ? { id: values.id } : {}),
      });
    case 'verify':
      return commandVerify(await profilesFor(values.config, values.targets));
    case 'serve':
      return commandServe(await profilesFor(values.config, undefined), args[0], values.json === true);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const command = argv.find((a) => !a.startsWith('-'));
  if (!command || command === 'help') {
    const topic = command === 'help' ? argv[argv.indexOf('help') + 1] : undefined;
    process.stdout.write(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : OVERVIEW);
    return command || argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  try {
    return await dispatch(command, argv);
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`smb-interop ${command}: ${(e as Error).message}\n`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof MatrixFileError || e instanceof ExpectationsError) {
      process.stderr.write(`smb-interop ${command}: ${e.message}\n`);
      return 2;
    }
    // Anything else is a failure of the run itself: say what, not where in our code.
    process.stderr.write(`smb-interop ${command}: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.SMB_INTEROP_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
