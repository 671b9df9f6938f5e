// The config rules of a server: the repo config and server config schemas composed from the parts
// of the runner kinds and hosts it knows (parts.ts), and their validation with readable errors.
// Built once from the registries (src/registry.ts) and handed to whoever reads a config.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError, describeIssues, parseYamlConfig } from './errors.ts';
import type { ConfigPart } from './parts.ts';
import { REPO_CONFIG_FILE, repoConfigSchemaWith, sharedQueueSchemaWith, type RepoConfig } from './repo.ts';
import { declaredProviders, MissingConfigError, serverConfigSchemaWith, type ServerConfig } from './server.ts';

export class ConfigRules {
  readonly repoSchema: ReturnType<typeof repoConfigSchemaWith>;
  readonly sharedQueueSchema: ReturnType<typeof sharedQueueSchemaWith>;
  readonly serverSchema: ReturnType<typeof serverConfigSchemaWith>;

  constructor(readonly parts: readonly ConfigPart[]) {
    this.repoSchema = repoConfigSchemaWith(parts);
    this.sharedQueueSchema = sharedQueueSchemaWith(parts);
    this.serverSchema = serverConfigSchemaWith(parts);
  }

  /** Validates a parsed repo config; throws ConfigError listing every problem. */
  validateRepo(input: unknown, source = 'repo config'): RepoConfig {
    if (input === null || input === undefined)
      throw new ConfigError(source, ['the file is empty; at least ci.provider is needed']);
    return check(this.repoSchema, input, source) as RepoConfig;
  }

  /** Parses a repo config's YAML text and validates it. */
  parseRepo(text: string, source = REPO_CONFIG_FILE): RepoConfig {
    return this.validateRepo(parseYamlConfig(text, source), source);
  }

  /** Validates a parsed server config (nothing given: the defaults). */
  validateServer(input: unknown, source = 'server config'): ServerConfig {
    return check(this.serverSchema, input ?? {}, source) as ServerConfig;
  }

  /** Reads and validates the server config file; no path: the defaults. */
  async loadServer(path: string | undefined): Promise<ServerConfig> {
    if (!path) return this.validateServer({});
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new MissingConfigError(path);
      throw new ConfigError(path, [`cannot read it: ${code ?? (err as Error).message}`]);
    }
    return this.validateServer(parseYamlConfig(text, path), path);
  }

  /** The providers the server config declares itself: its `command:` runners and `webhook:` CIs. */
  declaredProviders(config: ServerConfig): string[] {
    return declaredProviders(this.parts, config);
  }
}

function check(schema: z.ZodType, input: unknown, source: string): unknown {
  const result = schema.safeParse(input);
  if (!result.success) throw new ConfigError(source, describeIssues(result.error, input));
  return result.data;
}
