// The code hosts the server knows, in the order it starts them. A new host is one folder under
// src/hosts/ with a factory, and one line here.
import { gerritHostFactory } from './gerrit/factory.ts';
import { gitHostFactory } from './git/factory.ts';
import { githubHostFactory } from './github/factory.ts';
import type { HostFactory } from './types.ts';

export const hostFactories: readonly HostFactory[] = [githubHostFactory, gerritHostFactory, gitHostFactory];
export type { Host, HostContext, HostFactory } from './types.ts';
