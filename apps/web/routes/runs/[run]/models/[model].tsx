import { h } from "preact";
import { ErrorPage } from "../../../../components/ErrorPage.tsx";
import { Layout } from "../../../../components/Layout.tsx";
import { atomMembers, knownModel, memberText } from "../../../../members.ts";
import type { Problem } from "../../../../problems.ts";
import { htmlResponse } from "../../../../render.ts";
import type { LoadedData, PageProps, RouteContext } from "../../../../router.ts";
import { atomCourses, findRun } from "../../../../run_data.ts";
import { resolveRunFile, type Run } from "../../../../runs.ts";
import { fileHref, runHref } from "../../../../urls.ts";
import { modelFiles, voxelFiles } from "@brainorg/core/results";

/** ANs listed per atom. */
const TOP = 20;

/** One model: which ANs make up each atom's sub-group. */
export async function load(ctx: RouteContext) {
  const run = findRun(ctx);
  if (run instanceof Response) return run;
  const model = ctx.params.model;
  if (!knownModel(run, model)) {
    return htmlResponse(
      h(ErrorPage, {
        title: "Unknown model",
        message: `Run ${run.id} has no model "${model}".`,
        runId: run.id,
      }),
      404,
    );
  }
  const problems: Problem[] = [], files = modelFiles(model);
  const members = await atomMembers(run, model, problems, TOP);
  // Atom pages exist for the atoms of atoms.csv: link those only.
  const atoms = (await atomCourses(run, model, problems)).length;
  const present = async (path: string) => (await resolveRunFile(run, path)) ? path : undefined;
  return {
    run,
    model,
    atoms,
    members,
    codes: await present(files.codes),
    table: await present(files.members.path),
    problems,
  };
}

/** The model page: each atom's sub-group size and its strongest ANs. */
export default function ModelView(props: PageProps<LoadedData<typeof load>>) {
  const d = props.data;
  return (
    <Layout
      title={`${d.model}: sub-groups`}
      runId={d.run.id}
      problems={[...d.run.problems, ...d.problems]}
    >
      <h1>{d.model} · sub-group members</h1>
      <p class="muted">
        An atom's sub-group: the ANs with a non-zero code on it, named by layer and unit (L3.u117 is
        unit 117 of block 3's FFN output). Shown: the {TOP} strongest of each atom by |code|.
        {d.table && (
          <>
            {" "}Every member: <a href={fileHref(d.run.id, d.table)} download>members.csv</a>
          </>
        )}
        {d.codes && (
          <>
            {"; "}every code (atoms × ANs, float32, <code>numpy.load</code>):{" "}
            <a href={fileHref(d.run.id, d.codes)} download>codes.npy</a>
          </>
        )}
        .
      </p>
      {variancePartitionLine(d.run, d.model)}
      {d.members.missing && (
        <p class="muted">
          This run has no members table ({modelFiles(d.model).members.path}): it was written before
          brainorg recorded which ANs belong to each atom. Its sub-group sizes per layer are on each
          atom's page.
        </p>
      )}
      {d.members.atoms.length > 0 && (
        <table data-testid="members">
          <tr>
            <th>atom</th>
            <th>ANs</th>
            <th>+ / −</th>
            <th>strongest ANs by |code|</th>
          </tr>
          {d.members.atoms.map((a) => (
            <tr>
              <td>
                {a.atom < d.atoms
                  ? <a href={runHref(d.run.id, "atoms", d.model, a.atom)}>atom {a.atom}</a>
                  : `atom ${a.atom}`}
              </td>
              <td>{a.size}</td>
              <td>{a.positive} / {a.negative}</td>
              <td>
                {a.top.map((m, i) => (
                  <>
                    {i > 0 && ", "}
                    <code class="member">{memberText(m)}</code>
                  </>
                ))}
              </td>
            </tr>
          ))}
        </table>
      )}
    </Layout>
  );
}

/** The model's variance partitioning over voxels, where the run computed it. */
function variancePartitionLine(run: Run, model: string) {
  const v = run.summary?.voxel?.models.find((m) => m.name === model)?.variancePartition;
  if (!v) return null;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "–");
  const map = voxelFiles(model).variance.uniqueAtoms;
  return (
    <p class="muted" data-testid="variance-partition">
      Variance partitioning against {v.lowLevel.join(" + ")}{" "}
      (banded ridge, held-out R², median over voxels): unique atoms {f(v.medianUniqueAtoms)} (top
      {" "}
      {v.topVoxels} voxels: {f(v.topMedianUniqueAtoms)}), unique low level{" "}
      {f(v.medianUniqueLowLevel)}, shared {f(v.medianShared)}.{" "}
      <a href={`${runHref(run.id, "brain")}?map=${encodeURIComponent(map)}`}>
        unique atoms map
      </a>
    </p>
  );
}
