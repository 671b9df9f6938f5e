// The CI runner kinds and code hosts this server knows, and the config rules composed from what each
// brings to the configs (its config part). The server, `ost-gate check` and the demo read configs
// with these rules; a host gets them from the server (HostContext.rules).
import { runnerKinds } from './ci/index.ts';
import type { ConfigPart } from './config/parts.ts';
import { ConfigRules } from './config/rules.ts';
import { hostFactories } from './hosts/index.ts';
import { notifyConfigPart } from './notify/config.ts';

export const configParts: readonly ConfigPart[] = [
  ...runnerKinds.map((k) => k.config),
  ...hostFactories.flatMap((f) => (f.config ? [f.config] : [])),
  notifyConfigPart,
];

export const configRules = new ConfigRules(configParts);
