#!/usr/bin/env node
// The table of bench/compare_llama_cpp.sh: for every model and test, the median over rounds of
// hearth's and each llama.cpp build's tokens/s, and their ratios.
//
//   node bench/compare_table.mjs --runs DIR --refs NAME[,NAME...] [--pp 512] [--tg 128] [--suffix " @ d512"]
//        [--bandwidth] MODEL...
//
// DIR/MODEL/PROGRAM.ROUND.json holds one run's output (`hearth bench --json` for PROGRAM
// "hearth", tests/reference/llama_bench.mjs for the others); DIR/MODEL/PROGRAM.ROUND.err, where a
// run gave none, why. A program without results shows "n/a", and the notes under the table say
// why. --bandwidth adds hearth's generation GB/s, the device read bandwidth measured next to each
// run, and the fraction of it that generation reached.
import fs from "node:fs";
import path from "node:path";

const args = { refs: [], pp: 512, tg: 128, suffix: "", bandwidth: false, models: [] };
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === "--runs") args.runs = process.argv[++i];
    else if (a === "--refs") args.refs = process.argv[++i].split(",").filter(Boolean);
    else if (a === "--pp" || a === "--tg") args[a.slice(2)] = Number(process.argv[++i]);
    else if (a === "--suffix") args.suffix = process.argv[++i];
    else if (a === "--bandwidth") args.bandwidth = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else args.models.push(a);
}
if (!args.runs || args.refs.length === 0) throw new Error("--runs and --refs are required");

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const n = s.length;
    return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fixed = (x) => (x ? x.toFixed(2) : "n/a");

// The runs of one program on one model, in round order: parsed outputs (null where a round gave
// none) and the reasons given for the missing ones.
function runs(model, program) {
    const dir = path.join(args.runs, model);
    const rounds = new Map();
    const reasons = new Set();
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
        const m = name.match(/^(.+)\.(\d+)\.(json|err)$/);
        if (!m || m[1] !== program) continue;
        const text = fs.readFileSync(path.join(dir, name), "utf8").trim();
        const round = Number(m[2]);
        if (m[3] === "err") {
            if (text) reasons.add(text.split("\n").pop().replace(/^llama reference: /, ""));
            continue;
        }
        try {
            rounds.set(round, JSON.parse(text));
        } catch {
            reasons.add(`unreadable output: ${text.slice(0, 120)}`);
        }
    }
    const order = [...rounds.keys()].sort((a, b) => a - b);
    return { outputs: order.map((r) => rounds.get(r)), reasons };
}

// hearth's row for a test in each round's output (undefined where absent).
const hearthRows = (outputs, test) => outputs.map((o) => o?.results?.find((x) => x.test === test));

function header() {
    const single = args.refs.length === 1;
    const cols = ["model", "test", "hearth t/s", ...args.refs.map((r) => `${r} t/s`)];
    cols.push(...(single ? ["ratio", "ratio per round"] : args.refs.map((r) => `hearth/${r}`)));
    if (args.bandwidth) cols.push("hearth GB/s (tg)", "read GB/s", "of bandwidth");
    const align = cols.map((c, i) => (i < 2 || c === "ratio per round" ? "---" : "---:"));
    return `| ${cols.join(" | ")} |\n|${align.join("|")}|`;
}

const notes = new Map();  // "program: reason" -> models
function note(program, model, reasons) {
    for (const r of reasons) {
        const key = `${program}: ${r}`;
        if (!notes.has(key)) notes.set(key, []);
        if (!notes.get(key).includes(model)) notes.get(key).push(model);
    }
}

console.log(header());
const devices = new Map();
for (const model of args.models) {
    const ours = runs(model, "hearth");
    note("hearth", model, ours.reasons);
    const refs = args.refs.map((r) => ({ name: r, ...runs(model, r) }));
    for (const r of refs) note(r.name, model, r.reasons);
    for (const o of ours.outputs) if (o?.device) devices.set("hearth", o.device);
    for (const r of refs) for (const o of r.outputs) if (o?.gpu_devices?.length) devices.set(r.name, o.gpu_devices.join(", "));
    for (const [test, key] of [[`pp${args.pp}`, "pp_tok_s"], [`tg${args.tg}`, "tg_tok_s"]]) {
        const rows = hearthRows(ours.outputs, test + args.suffix);
        const h = rows.map((x) => x?.tokens_per_second);
        const hm = median(h.filter((x) => x));
        const cells = [model, test + args.suffix, fixed(hm)];
        const lms = refs.map((r) => median(r.outputs.map((o) => o?.[key]).filter((x) => x)));
        cells.push(...lms.map(fixed));
        cells.push(...lms.map((lm) => (hm && lm ? (hm / lm).toFixed(2) : "n/a")));
        if (refs.length === 1) {
            const l = refs[0].outputs.map((o) => o?.[key]);
            const paired = l.length === h.length && l.every((x) => x) && h.every((x) => x);
            cells.push(paired ? h.map((x, i) => (x / l[i]).toFixed(2)).join(" ") : "n/a");
        }
        if (args.bandwidth) {
            const tg = test.startsWith("tg") && rows.some((x) => x);
            const med = (k) => median(rows.map((x) => x?.[k]).filter((x) => x));
            cells.push(tg ? fixed(med("gb_per_second")) : "", tg ? fixed(med("memory_bandwidth_gb_per_second")) : "",
                       tg && med("bandwidth_fraction") ? `${Math.round(100 * med("bandwidth_fraction"))}%` : "");
        }
        console.log(`| ${cells.join(" | ")} |`);
    }
}
const lines = [...[...devices].map(([program, device]) => `- ${program} ran on ${device}`),
               ...[...notes].map(([key, models]) => `- n/a: ${key} (${models.join(", ")})`)];
if (lines.length) console.log(`\n${lines.join("\n")}`);
