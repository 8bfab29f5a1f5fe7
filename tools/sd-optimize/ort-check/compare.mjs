// Runs two ONNX models on the same seeded random inputs with ONNX Runtime's CPU provider and compares outputs.
//   node compare.mjs A.onnx B.onnx [--dim batch=2] [--dim height=16] ... [--runs 3] [--tol 1e-4] [--json out.json]
//                    [--ref-opt disabled] [--opt all]   (graph optimisation levels of A and B)
// Symbolic dimensions take --dim values (batch 2, sequence 77, others 16 by default). Float inputs are N(0, 1),
// except ones named like *timestep* (uniform 0..999); integer inputs (token ids) are uniform 0..--int-max (256). Prints, per output, the
// max abs difference, the max |A| and the time per run of each model; exits 1 when a difference exceeds --tol.
import fs from "node:fs";
import ort from "onnxruntime-node";

const fail = e => { console.error(`compare.mjs: ${e?.message ?? e}`); process.exit(2); };
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const dims = { batch: 2, sequence: 77 };
args.forEach((a, i) => { if (a === "--dim") { const [k, v] = args[i + 1].split("="); dims[k] = Number(v); } });
if (files.length !== 2) { console.error("usage: node compare.mjs A.onnx B.onnx [--dim name=N] [--runs N] [--tol T] [--json F]"); process.exit(2); }
const intMax = Number(opt("int-max", "256"));
const runs = Number(opt("runs", "3")), tol = Number(opt("tol", "1e-4")), jsonOut = opt("json");

let seed = Number(opt("seed", "1234")) >>> 0;
const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return (seed + 0.5) / 4294967296; };
const normal = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());

function makeInput(meta) {
  const shape = meta.shape.map(d => typeof d === "number" && d > 0 ? d : (dims[d] ?? 16));
  const n = shape.reduce((a, b) => a * b, 1);
  const isTime = /timestep/i.test(meta.name);
  switch (meta.type) {
    case "float32": return new ort.Tensor("float32", Float32Array.from({ length: n }, () => isTime ? Math.floor(rand() * 1000) : normal()), shape);
    case "int32": return new ort.Tensor("int32", Int32Array.from({ length: n }, () => Math.floor(rand() * intMax)), shape);
    case "int64": return new ort.Tensor("int64", BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * intMax))), shape);
    default: throw new Error(`input ${meta.name}: type ${meta.type} not supported by this check`);
  }
}

// the reference runs unoptimised (so no ONNX Runtime fusion of its own stands in for the plain graph), the other fully
const options = level => ({ executionProviders: ["cpu"], graphOptimizationLevel: level, intraOpNumThreads: Number(opt("threads", "2")) });
const a = await ORT_create(files[0], options(opt("ref-opt", "disabled")));
const b = await ORT_create(files[1], options(opt("opt", "all")));
function ORT_create(file, o) { return ort.InferenceSession.create(file, o); }
const feeds = Object.fromEntries(a.inputMetadata.map(m => [m.name, makeInput(m)]));
async function timed(session) {
  let out, best = Infinity;
  for (let r = 0; r < runs; r++) { const t0 = performance.now(); out = await session.run(feeds); best = Math.min(best, performance.now() - t0); }
  return [out, best];
}
const [outA, msA] = await timed(a);
const [outB, msB] = await timed(b);
const report = { a: files[0], b: files[1], inputs: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims])), outputs: {}, ms_a: +msA.toFixed(1), ms_b: +msB.toFixed(1), tol };
let worst = 0;
for (const name of a.outputNames) {
  const x = outA[name].data, y = outB[name]?.data;
  if (!y || y.length !== x.length) throw new Error(`output ${name}: missing or different size in ${files[1]}`);
  let maxAbs = 0, maxRef = 0;
  for (let i = 0; i < x.length; i++) { maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i])); maxRef = Math.max(maxRef, Math.abs(x[i])); }
  if (!Number.isFinite(maxAbs)) maxAbs = Infinity;
  report.outputs[name] = { dims: outA[name].dims, max_abs_diff: maxAbs, max_abs_a: maxRef };
  worst = Math.max(worst, maxAbs);
}
report.max_abs_diff = worst;
report.ok = worst <= tol;
console.log(JSON.stringify(report));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
