// The `ost-results` artifact of a completed workflow run: a zip of JUnit XML files, found and
// downloaded through the REST API (`/actions/runs/{id}/artifacts`, then the artifact's zip, which
// GitHub answers with a redirect to its storage), unzipped with fflate within a size bound.
import { unzipSync } from 'fflate';
import { MAX_JUNIT_BYTES, mergeResults, parseJunit, type TestResults } from '../test-results.ts';
import type { Logger } from '../../log.ts';
import type { RequestOctokit } from './dispatcher.ts';

/** The artifact a workflow uploads its JUnit XML files as. */
export const RESULTS_ARTIFACT = 'ost-results';

interface Artifact {
  id: number;
  name: string;
  size_in_bytes?: number;
  expired?: boolean;
}

/** Why an artifact's results were not used; the run keeps one bit. */
export class ArtifactError extends Error {}

/**
 * The failing tests of a failed workflow run, from its `ost-results` artifact: null without one, or
 * when it cannot be read (logged: the run keeps one bit).
 */
export async function failedRunTests(
  octokit: RequestOctokit,
  where: { repo: string; runId: number; key: string },
  log: Logger,
): Promise<TestResults | null> {
  const [owner, name] = where.repo.split('/') as [string, string];
  try {
    return await artifactTests(octokit, { owner, repo: name, runId: where.runId });
  } catch (err) {
    log.warn(
      { run: where.runId, key: where.key, err: (err as Error).message },
      `the ${RESULTS_ARTIFACT} artifact could not be read; the run keeps one bit`,
    );
    return null;
  }
}

/** The tests in run `runId`'s `ost-results` artifact, or null when it has none; throws when unreadable. */
async function artifactTests(
  octokit: RequestOctokit,
  where: { owner: string; repo: string; runId: number },
): Promise<TestResults | null> {
  const { owner, repo, runId } = where;
  const list = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts', {
    owner,
    repo,
    run_id: runId,
    name: RESULTS_ARTIFACT,
    per_page: 10,
  });
  const artifacts = ((list.data as { artifacts?: Artifact[] }).artifacts ?? []).filter(
    (a) => a.name === RESULTS_ARTIFACT && !a.expired,
  );
  const artifact = artifacts[0];
  if (!artifact) return null;
  if ((artifact.size_in_bytes ?? 0) > MAX_JUNIT_BYTES)
    throw new ArtifactError(`${RESULTS_ARTIFACT} is ${artifact.size_in_bytes} bytes, more than ${MAX_JUNIT_BYTES}`);
  const zip = await octokit.request('GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', {
    owner,
    repo,
    artifact_id: artifact.id,
    archive_format: 'zip',
  });
  return zipTests(new Uint8Array(zip.data as ArrayBuffer));
}

/** The JUnit XML files of a zip, read within `MAX_JUNIT_BYTES` in all. */
export function zipTests(zip: Uint8Array): TestResults | null {
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (!f.name.endsWith('.xml')) return false;
        declared += f.originalSize;
        if (declared > MAX_JUNIT_BYTES)
          throw new ArtifactError(`${RESULTS_ARTIFACT} unpacks to more than ${MAX_JUNIT_BYTES} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ArtifactError) throw err;
    throw new ArtifactError(`${RESULTS_ARTIFACT} is not a readable zip: ${(err as Error).message}`);
  }
  const names = Object.keys(files).sort();
  const decoder = new TextDecoder();
  return mergeResults(
    names.map((name) => {
      const bytes = files[name]!;
      if (bytes.byteLength > MAX_JUNIT_BYTES) throw new ArtifactError(`${name} unpacks past its declared size`);
      return parseJunit(decoder.decode(bytes));
    }),
  );
}
