// Checks GitHub REST traffic against GitHub's own OpenAPI description (@octokit/openapi): requests
// against api.github.com's, and requests under /api/v3 against the oldest GHES description shipped.
// A request must name a documented operation, carry its required parameters and no undeclared query
// parameter, and send a body its schema accepts; a mock must answer a documented status with a body
// its schema accepts. A body the spec rejects may only be answered 422 or 400, as GitHub does.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const DOTCOM = 'api.github.com';
export const OLDEST_GHES = 'ghes-3.17';
export type SpecName = typeof DOTCOM | typeof OLDEST_GHES;

type Json = Record<string, any>;
interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literal: number;
  op: Json;
}
interface Spec {
  name: SpecName;
  doc: Json;
  operations: Operation[];
  ajv: Ajv;
  compiled: Map<string, ValidateFunction>;
}

const specs = new Map<SpecName, Spec>();
const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

function load(name: SpecName): Spec {
  const known = specs.get(name);
  if (known) return known;
  const file = require.resolve(`@octokit/openapi/generated/${name}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as Json)) {
    const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      if (!item[method]) continue;
      const literal = template.replace(/\{[^}]+\}/g, '').length;
      operations.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${source}$`),
        literal,
        op: item[method],
      });
    }
  }
  allowNullEnums(doc.components);
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema({ components: doc.components }, name);
  const spec = { name, doc, operations, ajv, compiled: new Map() };
  specs.set(name, spec);
  return spec;
}

/** OpenAPI 3.0's `nullable: true` admits null even beside an `enum`; JSON Schema needs null listed. */
function allowNullEnums(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Json;
  if (o.nullable === true && Array.isArray(o.enum) && !o.enum.includes(null)) o.enum.push(null);
  // OpenAPI 3.0's `nullable` beside `allOf` and no `type` (a commit's verification, say): ajv takes
  // `nullable` only with `type`, so such a schema becomes "the schema, or null"
  if (o.nullable === true && o.type === undefined) {
    const rest = { ...o };
    delete rest.nullable;
    for (const k of Object.keys(o)) delete o[k];
    o.anyOf = [rest, { type: 'null' }];
  }
  for (const v of Object.values(o)) allowNullEnums(v);
}

/** Follows a local `$ref` ("#/components/...") to the object it names. */
function deref(spec: Spec, node: Json | undefined): Json | undefined {
  let at = node;
  while (at && typeof at.$ref === 'string') {
    at = (at.$ref as string)
      .slice(2)
      .split('/')
      .reduce<Json | undefined>((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec.doc);
  }
  return at;
}

/** Rewrites local refs so that they point into the components registered under the spec's name. */
function anchored(node: unknown, name: string): unknown {
  if (Array.isArray(node)) return node.map((n) => anchored(n, name));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === '$ref' && typeof v === 'string' ? `${name}${v}` : anchored(v, name);
  return out;
}

function validator(spec: Spec, key: string, schema: Json): ValidateFunction {
  let fn = spec.compiled.get(key);
  if (!fn) {
    fn = spec.ajv.compile(anchored(schema, spec.name) as Json);
    spec.compiled.set(key, fn);
  }
  return fn;
}

function errorsOf(fn: ValidateFunction): string {
  return (fn.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(root)'} ${e.message}`)
    .join('; ');
}

/** The documented operation for a request, preferring the most literal template when several match. */
export function operationFor(name: SpecName, method: string, path: string): Operation | undefined {
  const candidates = load(name).operations.filter((o) => o.method === method && o.pattern.test(path));
  return candidates.sort((a, b) => b.literal - a.literal)[0];
}

export interface Exchange {
  method: string;
  /** the path below the API's root, still URL-encoded */
  path: string;
  query: URLSearchParams;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
  /** the response was JSON (a raw media type is not checked) */
  responseIsJson: boolean;
}

/** What is wrong with one request and its answer, judged by the named description ([] when nothing). */
export function problems(name: SpecName, x: Exchange): string[] {
  const spec = load(name);
  const where = `${name}: ${x.method} ${x.path}`;
  const found = operationFor(name, x.method, x.path.split('?')[0]!);
  if (!found) return [`${where}: no such operation`];
  const { op, template } = found;
  const out: string[] = [];
  const params = ((op.parameters ?? []) as Json[]).map((p) => deref(spec, p)!);
  for (const p of params.filter((p) => p.in === 'query' && p.required))
    if (!x.query.has(p.name)) out.push(`${where}: required query parameter ${p.name} missing`);
  const declared = new Set(params.filter((p) => p.in === 'query').map((p) => p.name as string));
  for (const key of new Set(x.query.keys()))
    if (!declared.has(key)) out.push(`${where}: query parameter ${key} is not declared by ${template}`);
  const body = deref(spec, op.requestBody)?.content?.['application/json']?.schema as Json | undefined;
  let wrong = '';
  if (body && x.requestBody !== undefined) {
    const fn = validator(spec, `${x.method} ${template} request`, body);
    const schema = deref(spec, body)!;
    const undeclared =
      schema.type === 'object' &&
      schema.properties &&
      schema.additionalProperties === undefined &&
      isObject(x.requestBody)
        ? Object.keys(x.requestBody).filter((k) => !(k in schema.properties))
        : [];
    wrong = !fn(x.requestBody) ? errorsOf(fn) : undeclared.length ? `undeclared field(s) ${undeclared.join(', ')}` : '';
  } else if (!body && isObject(x.requestBody) && Object.keys(x.requestBody).length && x.method !== 'GET')
    wrong = 'the operation takes no JSON body';
  // GitHub answers a body it cannot accept with 422 (or 400): a mock doing so is right, whatever else is documented
  if (wrong && (x.status === 422 || x.status === 400)) return out;
  if (wrong) out.push(`${where}: the body does not match the spec (${wrong}), yet the mock answered ${x.status}`);
  else if (x.status === 422 || x.status === 400) {
    if (!op.responses?.[String(x.status)])
      return [...out, `${where}: the mock rejects (${x.status}) a body the spec accepts`];
  }
  // server errors, bad credentials and "not found" (GitHub's answer for anything the token cannot see) may come from any route
  if (x.status >= 500 || x.status === 401 || (x.status === 404 && !op.responses?.['404'])) return out;
  // so may a (secondary) rate limit: 403 or 429 with GitHub's message, documented once for the whole API
  // (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api), not per route
  if (
    (x.status === 403 || x.status === 429) &&
    isObject(x.responseBody) &&
    /rate limit/i.test(String(x.responseBody.message))
  )
    return out;
  const response = deref(spec, op.responses?.[String(x.status)]);
  if (!response) {
    out.push(`${where}: the mock answers ${x.status}, which ${template} does not document`);
    return out;
  }
  const schema = response.content?.['application/json']?.schema as Json | undefined;
  if (schema && x.responseIsJson) {
    const fn = validator(spec, `${x.method} ${template} ${x.status}`, schema);
    if (!fn(x.responseBody))
      out.push(`${where}: the mock's ${x.status} answer does not match the spec (${errorsOf(fn)})`);
  } else if (!schema && x.responseBody !== undefined && x.responseBody !== '' && x.status !== 204)
    out.push(`${where}: the mock answers ${x.status} with a body, where the spec documents none`);
  return out;
}

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A copy of the example GitHub documents for an operation's answer (its first example when there are
 * several), to build mock answers from what GitHub really sends; `patch` overrides fields on top.
 */
export function documentedAnswer<T = Json>(
  route: string,
  status: number,
  patch: Json = {},
  name: SpecName = DOTCOM,
): T {
  const spec = load(name);
  const [method, template] = route.split(' ') as [string, string];
  const op = spec.doc.paths[template]?.[method.toLowerCase()];
  if (!op) throw new Error(`${name} has no operation ${route}`);
  const content = deref(spec, op.responses?.[String(status)])?.content?.['application/json'];
  const first = content?.examples ? Object.values(content.examples as Json)[0] : undefined;
  const value = deref(spec, first as Json)?.value ?? content?.example;
  if (value === undefined) throw new Error(`${name} documents no example for ${route} ${status}`);
  const copy = structuredClone(value);
  // GitHub's own pull request examples list a team without the `type` its schema requires
  if (copy && Array.isArray(copy.requested_teams)) copy.requested_teams = [];
  return (Array.isArray(copy) ? copy : { ...copy, ...patch }) as T;
}

/** The first success an operation documents for a request to `path`, with its example body: a stand-in's answer. */
export function documentedReply(name: SpecName, method: string, path: string): [number, unknown] {
  const found = operationFor(name, method, path.split('?')[0]!);
  if (!found) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
  const status = Object.keys(found.op.responses ?? {}).find((s) => s.startsWith('2')) ?? '204';
  try {
    return [Number(status), documentedAnswer(`${method} ${found.template}`, Number(status), {}, name)];
  } catch {
    return [Number(status), undefined];
  }
}
