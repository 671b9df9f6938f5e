// Checks GraphQL requests to GitHub, and the stand-ins' answers, against GitHub's published GraphQL
// schema (@octokit/graphql-schema): the document must validate, its variables must have the declared
// types, and an answer's data must fit the query's selection (read back through the schema's types,
// so a missing non-null field or a wrong scalar is found).
import {
  buildClientSchema,
  execute,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { schema as published } from '@octokit/graphql-schema';

let built: GraphQLSchema | null = null;
// from the introspection result: the package's SDL text defines one field twice, which buildSchema refuses
const github = (): GraphQLSchema => (built ??= buildClientSchema(published.json as unknown as IntrospectionQuery));

export function graphqlProblems(requestBody: unknown, responseBody: unknown): string[] {
  const where = 'POST /graphql';
  const { query, variables } = (requestBody ?? {}) as { query?: unknown; variables?: Record<string, unknown> };
  if (typeof query !== 'string') return [`${where}: the body has no query`];
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
  const invalid = validate(github(), document);
  if (invalid.length) return invalid.map((e) => `${where}: ${e.message}`);
  const answer = (responseBody ?? {}) as { data?: unknown };
  const result = execute({ schema: github(), document, rootValue: answer.data ?? {}, variableValues: variables ?? {} });
  if (result instanceof Promise) return [`${where}: the answer could not be read synchronously`];
  return (result.errors ?? []).map((e) => `${where}: ${e.message} (at ${e.path?.join('.') ?? 'the variables'})`);
}
