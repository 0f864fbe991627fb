#!/usr/bin/env node
// Runs ONNX models with onnxruntime-node (CPU) as the oracle for hearth's ONNX interpreter.
// Usage: node ort_run.mjs <manifest.json> [--threads N] [--repeat R]
// The manifest is a list of cases {model, inputs: [{name, dtype, shape, file}], out}; each
// input file holds raw little-endian elements. For each case the outputs are written as
// <out>.<index>.bin plus <out>.json ({outputs: [{name, dtype, shape, file}]} or {error}).
// With --repeat R, each case runs R more times; the mean wall seconds and process CPU seconds
// per run go into the JSON (seconds, cpu_seconds).
// Exits 77 (skip) when onnxruntime-node is not installed.
import fs from "node:fs";
import path from "node:path";

let ort;
try {
    ort = (await import("onnxruntime-node")).default ?? (await import("onnxruntime-node"));
} catch (e) {
    process.stderr.write(`onnxruntime-node not available: ${e.message}\n`);
    process.exit(77);
}

const args = process.argv.slice(2);
const manifestPath = args[0];
let threads = 1;
let repeat = 0;
for (let i = 1; i < args.length; i++) {
    if (args[i] === "--threads") threads = Number(args[++i]);
    else if (args[i] === "--repeat") repeat = Number(args[++i]);
}
const dir = path.dirname(manifestPath);
const cases = JSON.parse(fs.readFileSync(manifestPath, "utf8"));

const arrays = {
    float32: Float32Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array,
    float64: Float64Array, uint8: Uint8Array, int8: Int8Array,
};

function readInput(inp) {
    const buf = fs.readFileSync(path.resolve(dir, inp.file));
    const Ctor = arrays[inp.dtype];
    const copy = new Uint8Array(buf.byteLength);
    copy.set(buf);
    const data = new Ctor(copy.buffer, 0, buf.byteLength / Ctor.BYTES_PER_ELEMENT);
    return new ort.Tensor(inp.dtype, data, inp.shape);
}

const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ["cpu"] };
for (const c of cases) {
    const outBase = path.resolve(dir, c.out);
    try {
        const session = await ort.InferenceSession.create(path.resolve(dir, c.model), options);
        const feeds = {};
        for (const inp of c.inputs) feeds[inp.name] = readInput(inp);
        const results = await session.run(feeds);
        let seconds = 0;
        let cpuSeconds = 0;
        if (repeat > 0) {
            const t0 = process.hrtime.bigint();
            const c0 = process.cpuUsage();
            for (let r = 0; r < repeat; r++) await session.run(feeds);
            const c1 = process.cpuUsage(c0);
            seconds = Number(process.hrtime.bigint() - t0) / 1e9 / repeat;
            cpuSeconds = (c1.user + c1.system) / 1e6 / repeat;
        }
        const outputs = [];
        session.outputNames.forEach((name, i) => {
            const t = results[name];
            const file = `${path.basename(outBase)}.${i}.bin`;
            const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
            fs.writeFileSync(path.join(path.dirname(outBase), file), bytes);
            outputs.push({ name, dtype: t.type, shape: t.dims.map(Number), file });
        });
        fs.writeFileSync(`${outBase}.json`, JSON.stringify({ outputs, seconds, cpu_seconds: cpuSeconds }));
        await session.release();
    } catch (e) {
        fs.writeFileSync(`${outBase}.json`, JSON.stringify({ error: String(e.message ?? e) }));
    }
}
