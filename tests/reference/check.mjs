#!/usr/bin/env node
// Exit 0 when the pinned reference packages are installed and llama.cpp's CPU prebuilt loads.
// Used by scripts/setup-reference.sh; prints the reason for failure on stderr.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
try {
    const lock = JSON.parse(fs.readFileSync(path.join(here, "package-lock.json"), "utf8")).packages;
    for (const name of ["node-llama-cpp", "koffi", "openai", "onnxruntime-node", "playwright-core"]) {
        const want = lock["node_modules/" + name].version;
        const file = path.join(here, "node_modules", name, "package.json");
        if (!fs.existsSync(file)) throw new Error(`${name} is not installed`);
        const got = JSON.parse(fs.readFileSync(file, "utf8")).version;
        if (got !== want) throw new Error(`${name} ${got} installed, ${want} pinned`);
    }
    const { loadLlama } = await import("./llama_ffi.mjs");
    const { libPath } = await loadLlama();
    process.stdout.write(`llama.cpp: ${libPath}\n`);
} catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
}
