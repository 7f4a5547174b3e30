/**
 * The npm package as `npm pack` makes it: only the bundle (with its maps and licences), package.json and
 * the README; no dependencies and no install scripts, so `npm install -g` of the tarball needs no registry
 * and builds nothing; and the installed `buildx-step` runs (inspect of a real tarball, which loads chunks).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { buildTarball, sampleContext } from "../helpers/images.js";
import { repoRoot } from "../helpers/shipped.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
let tgz: string;
let files: string[];

before(async () => {
  work = await tempDir("buildx-step-npm-");
  // The build already ran (npm test builds first): no second build by `prepare`.
  const { stdout } = await exec(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", work.path],
    { cwd: repoRoot, maxBuffer: 1 << 24 },
  );
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed);
  tgz = join(work.path, packed.filename);
  files = packed.files.map((f) => f.path);
});
after(async () => {
  await work?.remove();
});

test("npm pack ships the bundle, package.json and README, nothing else", () => {
  assert.ok(files.includes("dist/bundle/buildx-step.cjs"), files.join("\n"));
  assert.ok(files.includes("dist/bundle/THIRD-PARTY-LICENSES.txt"));
  assert.ok(files.some((f) => /^dist\/bundle\/chunks\/.+\.cjs$/.test(f)));
  for (const file of files) {
    assert.match(file, /^(dist\/bundle\/|package\.json$|README\.md$|LICENSE)/, `unexpected file ${file}`);
  }
});

test("the package declares no dependencies, no install scripts, and a bin that exists", async () => {
  const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as Record<string, unknown>;
  for (const field of ["dependencies", "optionalDependencies", "peerDependencies", "main", "types"]) {
    assert.equal(pkg[field], undefined, `package.json has ${field}`);
  }
  const scripts = (pkg.scripts ?? {}) as Record<string, string>;
  for (const hook of ["preinstall", "install", "postinstall"]) assert.equal(scripts[hook], undefined, hook);
  const bin = (pkg.bin as Record<string, string>)["buildx-step"];
  assert.ok(bin && files.includes(bin), `bin ${bin} is in the package`);
});

test("npm install -g of the tarball works offline and the installed command runs", async () => {
  const prefix = join(work.path, "prefix");
  await exec("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tgz], {
    maxBuffer: 1 << 24,
  });
  const installed = join(prefix, "bin", "buildx-step");
  const { version } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
    version: string;
  };
  assert.equal((await exec(installed, ["--version"])).stdout.trim(), version);
  const context = await sampleContext(join(work.path, "context"));
  const tarball = await buildTarball({ context, dest: join(work.path, "image.tar") });
  const { stdout } = await exec(installed, ["inspect", "--json", tarball]);
  assert.match(stdout, /sha256:[a-f0-9]{64}/);
  // Nothing was installed beside it: the bundle is the whole program.
  const { stdout: listed } = await exec("npm", ["ls", "-g", "--prefix", prefix, "--all", "--parseable"]);
  assert.equal(listed.trim().split("\n").length, 2, listed);
});
