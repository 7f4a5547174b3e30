import { Command, CommanderError, Option } from "commander";
import type { FlagValue } from "../config/layers.js";
import { parseBool } from "../config/parse.js";
import { secretEnvValues } from "../config/secrets.js";
import { exitCodeOf, messageOf, UsageError } from "../errors.js";
import { createLogger } from "../log.js";
import { SecretMask } from "../secret-mask.js";
import { buildFlags, commonFlags, type FlagSpec, isRepeatable, pushFlags, pushOnlyFlags } from "./flags.js";
import { packageVersion } from "./version.js";

/** What the command line asked for: one command, its flags as settings, and the stage settings file. */
export interface Invocation {
  command: "plugin" | "build" | "push" | "inspect" | "config";
  flags: FlagValue[];
  settingsFile?: string;
  step?: string;
  /** inspect's tarball. */
  tarball?: string;
  json: boolean;
}

/** Runs an invocation; `secrets` is the run's mask, which the final error line is masked with too. */
type Runner = (invocation: Invocation, env: NodeJS.ProcessEnv, secrets: SecretMask) => Promise<number>;

function addFlags(command: Command, specs: FlagSpec[]): void {
  for (const spec of specs) {
    const option = new Option(spec.flags, spec.description);
    if (isRepeatable(spec))
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    command.addOption(option);
  }
}

/** The flags given on this command line, in the order of `specs`, as settings with their flag names. */
function flagValues(command: Command, specs: FlagSpec[]): FlagValue[] {
  const values: FlagValue[] = [];
  for (const spec of specs) {
    const option = command.options.find((o) => o.flags === spec.flags);
    if (!option) continue;
    const key = option.attributeName();
    // Only what the user typed is a flag source; commander's defaults are not.
    if (command.getOptionValueSource(key) !== "cli") continue;
    const value = command.getOptionValue(key) as string | string[] | boolean;
    // A switch (also a `--no-X` one, which commander stores as X=false) means "on" for its setting.
    const isSwitch = !option.required && !option.optional;
    values.push({ setting: spec.setting, flag: option.long ?? spec.flags, value: isSwitch ? true : value });
  }
  return values;
}

/** `BUILDX_STEP_DEBUG` as a switch; a value that is not a boolean is not a reason to fail the error path. */
function isDebug(env: NodeJS.ProcessEnv): boolean {
  try {
    return env.BUILDX_STEP_DEBUG ? parseBool(env.BUILDX_STEP_DEBUG, "BUILDX_STEP_DEBUG") : false;
  } catch {
    return false;
  }
}

/** The JSON object `--json` prints for a failure: `{"error": {"message", "exitCode", "setting"?}}`. */
function failureJson(
  error: unknown,
  secrets: SecretMask,
): { error: { message: string; exitCode: number; setting?: string } } {
  const setting = error instanceof UsageError ? error.setting : undefined;
  return {
    error: {
      message: secrets.mask(messageOf(error)),
      exitCode: exitCodeOf(error),
      ...(setting ? { setting } : {}),
    },
  };
}

/**
 * Parses argv into an {@link Invocation} and hands it to `run`. Returns the exit code: 0, 1 for a
 * failure of buildx, the engine or a registry, 2 for bad input (including a bad command line).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, run: Runner): Promise<number> {
  let invocation: Invocation | undefined;
  const program = new Command("buildx-step")
    .description(
      "Build container images with docker buildx and push them, or build to a tarball now and push exactly that tarball later.\n" +
        "Run with no command, it is the Drone/Harness buildx plugin: settings come from PLUGIN_* variables.",
    )
    .version(packageVersion(), "-V, --version")
    .option("--settings <file>", "stage settings file (INI); also PLUGIN_SETTINGS_FILE")
    .option("--step <name>", 'this step\'s name, for [step "NAME"] sections; also DRONE_STEP_NAME')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError("(run buildx-step --help for usage)");
  addFlags(program, commonFlags);

  const globals = () => {
    const opts = program.opts<{ settings?: string; step?: string }>();
    return { settingsFile: opts.settings, step: opts.step };
  };
  const common = (command: Command) =>
    flagValues(command, commonFlags).concat(flagValues(program, commonFlags));
  const wantsJson = (command: Command) => Boolean(command.opts().json || program.opts().json);

  program.action(() => {
    invocation = { command: "plugin", flags: common(program), json: wantsJson(program), ...globals() };
  });

  const build = program
    .command("build")
    .description("build an image; push it, or with --dry-run keep it (in a --tar tarball, or --load it)")
    .argument("[context]", "build context (default .)");
  addFlags(build, [...buildFlags, ...commonFlags]);
  build.action((context: string | undefined) => {
    const flags = flagValues(build, buildFlags).concat(common(build));
    if (context !== undefined) flags.push({ setting: "context", flag: "[context]", value: context });
    // `build` builds: a stage-wide PLUGIN_PUSH_ONLY (meant for the stage's push step) does not turn it into a push.
    flags.push({ setting: "pushOnly", flag: "build", value: false });
    invocation = { command: "build", flags, json: wantsJson(build), ...globals() };
  });

  const push = program
    .command("push")
    .description("push the image in a tarball (or, --via daemon, in the engine) to --repo with each --tag")
    .argument(
      "[tarball]",
      "image tarball (docker or OCI; plain, gzip, zstd, xz or bzip2), an OCI layout folder, or - to read standard input; also PLUGIN_SOURCE_TAR_PATH",
    );
  addFlags(push, [...pushFlags, ...commonFlags]);
  push.action((tarball: string | undefined) => {
    const flags = flagValues(push, pushFlags).concat(common(push));
    flags.push({ setting: "pushOnly", flag: "push", value: true });
    if (tarball !== undefined) flags.push({ setting: "sourceTarPath", flag: "[tarball]", value: tarball });
    invocation = { command: "push", flags, json: wantsJson(push), ...globals() };
  });

  const inspect = program
    .command("inspect")
    .description(
      "show the images in a tarball as a registry would serve them: names, digests, platforms, sizes",
    )
    .argument(
      "<tarball>",
      "image tarball (plain or compressed), an OCI layout folder, or - for standard input",
    );
  addFlags(inspect, commonFlags);
  inspect.action((tarball: string) => {
    invocation = {
      command: "inspect",
      flags: common(inspect),
      tarball,
      json: wantsJson(inspect),
      ...globals(),
    };
  });

  const config = program
    .command("config")
    .description("show the resolved settings and where each came from (secrets as ***)");
  addFlags(config, [...buildFlags, ...pushOnlyFlags, ...commonFlags]);
  config.action(() => {
    const flags = flagValues(config, [...buildFlags, ...pushOnlyFlags]).concat(common(config));
    invocation = { command: "config", flags, json: wantsJson(config), ...globals() };
  });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; a bad command line is bad input: 2.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  if (!invocation) return 0;
  // The secret settings as the environment gives them are masked from the start: an error raised before
  // the settings are resolved (or by a part that never registered them) is printed through this mask too.
  const secrets = new SecretMask();
  for (const value of secretEnvValues(env)) secrets.add(value);
  try {
    return await run(invocation, env, secrets);
  } catch (error) {
    const debug = isDebug(env);
    const logger = createLogger({ secrets, debug });
    logger.error(messageOf(error));
    // With --json a script reads stdout: the failure is one JSON object there too, masked like the log line.
    if (invocation.json) process.stdout.write(`${JSON.stringify(failureJson(error, secrets))}\n`);
    if (exitCodeOf(error) !== 2 && debug && error instanceof Error && error.stack) {
      logger.debug(error.stack);
    }
    return exitCodeOf(error);
  }
}
