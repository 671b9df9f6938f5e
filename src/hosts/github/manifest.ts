// The GitHub App manifest flow (as Probot's): the manifest built from app.yml, where GitHub's
// new-app form is, and the exchange of the code GitHub redirects back with for the App's id,
// private key and webhook secret (POST /app-manifests/{code}/conversions, no authentication).
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { WEBHOOKS_PATH } from './endpoints.ts';

export interface ManifestTarget {
  /** GitHub Enterprise Server's host (and port), or undefined for github.com. */
  gheHost?: string | undefined;
  /** http only for a local stand-in; https otherwise. */
  protocol?: 'https' | 'http';
  /** Create the App in this organization instead of the user's account. */
  org?: string | undefined;
}

/** The App GitHub created, with its secrets; printed never, written to .env only. */
export interface CreatedApp {
  id: number;
  slug: string;
  html_url: string;
  pem: string;
  webhook_secret: string | null;
  client_id: string;
  client_secret: string;
}

/** The manifest: app.yml's events and permissions, with the webhook URL and where GitHub sends the browser back. */
export async function buildManifest(
  publicUrl: string | undefined,
  redirectUrl: string,
  name?: string,
): Promise<Record<string, unknown>> {
  const app = parse(await readFile(new URL('../../../app.yml', import.meta.url), 'utf8')) as Record<string, unknown>;
  const hookUrl = publicUrl ? `${publicUrl.replace(/\/+$/, '')}${WEBHOOKS_PATH}` : undefined;
  return {
    ...app,
    ...(name ? { name } : {}),
    url: publicUrl ?? app.url,
    // without a public URL the App starts with webhooks off; set the URL in the App's settings later
    hook_attributes: hookUrl ? { url: hookUrl, active: true } : { url: 'https://example.invalid/', active: false },
    redirect_url: redirectUrl,
  };
}

/** GitHub's "new App" form, which takes the manifest as a form field. */
export function newAppFormUrl(target: ManifestTarget, state: string): string {
  const web = target.gheHost ? `${target.protocol ?? 'https'}://${target.gheHost}` : 'https://github.com';
  const path = target.org ? `/organizations/${encodeURIComponent(target.org)}/settings/apps/new` : '/settings/apps/new';
  return `${web}${path}?state=${encodeURIComponent(state)}`;
}

/** Exchanges the code for the App and its credentials. */
export async function convertManifestCode(target: ManifestTarget, code: string): Promise<CreatedApp> {
  const api = target.gheHost ? `${target.protocol ?? 'https'}://${target.gheHost}/api/v3` : 'https://api.github.com';
  const res = await fetch(`${api}/app-manifests/${encodeURIComponent(code)}/conversions`, {
    method: 'POST',
    headers: { accept: 'application/vnd.github+json', 'user-agent': 'ost-gate' },
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`GitHub refused the manifest code (${res.status}): ${text.slice(0, 200)}`);
  return JSON.parse(text) as CreatedApp;
}
