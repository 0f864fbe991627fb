// Thin binding to llama.cpp's C API for hearth's reference tests and benchmarks.
//
// node-llama-cpp@3.21.1 supplies prebuilt llama.cpp binaries and loads them (the CPU build, or for
// benchmarks its Vulkan or CUDA build; never downloading or compiling anything). Its JavaScript
// API only exposes post-softmax probabilities, so the raw logits come from calling libllama directly through koffi (FFI) on
// the very same shared library node-llama-cpp loaded. Tokens go in as ids: nothing is
// tokenized and no BOS is added.
//
// The struct layouts below mirror include/llama.h of the llama.cpp release bundled with
// node-llama-cpp 3.21.1 (node_modules/node-llama-cpp/llama/gitRelease.bundle, release v0.4.0);
// their sizes are checked at load time. Bumping node-llama-cpp means re-checking them.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export function fail(message) {
    process.stderr.write(`llama reference: ${message}\n`);
    process.exit(2);
}

// Minimal `--name value` / `--flag` parser. `spec` maps names to "string" | "int" | "bool".
export function parseArgs(argv, spec) {
    const out = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (!a.startsWith("--")) fail(`unexpected argument: ${a}`);
        const name = a.slice(2);
        const kind = spec[name];
        if (!kind) fail(`unknown option: ${a}`);
        if (kind === "bool") { out[name] = true; continue; }
        if (i + 1 >= argv.length) fail(`missing value for ${a}`);
        const v = argv[++i];
        if (kind === "int") {
            if (!/^-?\d+$/.test(v)) fail(`${a} expects an integer, got ${v}`);
            out[name] = Number.parseInt(v, 10);
        } else {
            out[name] = v;
        }
    }
    return out;
}

let lib = null;

// Loads llama.cpp via node-llama-cpp (prebuilt binaries only) and binds the C API. `gpu`: false
// (the CPU build), "vulkan" or "cuda" (that build, which must find a GPU). One build per process.
export async function loadLlama(gpu = false) {
    if (lib) {
        if (lib.gpu !== gpu) fail(`llama.cpp's ${lib.gpu || "CPU"} build is already loaded in this process`);
        return lib;
    }
    let koffi, getLlama, LlamaLogLevel;
    try {
        koffi = (await import("koffi")).default;
        ({ getLlama, LlamaLogLevel } = await import("node-llama-cpp"));
    } catch (e) {
        fail(`node modules missing (run scripts/setup-reference.sh): ${e.message}`);
    }
    // gpu:false selects the CPU-only prebuilt; build:"never" + skipDownload forbid compiling or
    // fetching llama.cpp. This also loads the ggml CPU backend variant best suited to this CPU.
    // A named GPU type is the only one tried: without its prebuilt package, or where it does not
    // load, getLlama throws instead of falling back to the CPU.
    const llama = await loadBuild(getLlama, LlamaLogLevel, gpu);
    const libPath = findLoadedLibllama();
    const L = koffi.load(libPath);

    const ModelParams = koffi.struct("hearth_llama_model_params", {
        devices: "void *",
        tensor_buft_overrides: "void *",
        n_gpu_layers: "int32",
        split_mode: "int32",
        load_mode: "int32",
        lazy_mode: "int32",
        main_gpu: "int32",
        tensor_split: "void *",
        progress_callback: "void *",
        progress_callback_user_data: "void *",
        kv_overrides: "void *",
        vocab_only: "bool",
        check_tensors: "bool",
        use_extra_bufts: "bool",
        no_host: "bool",
        no_alloc: "bool",
        load_mtp: "bool",
    });
    const ContextParams = koffi.struct("hearth_llama_context_params", {
        n_ctx: "uint32",
        n_batch: "uint32",
        n_ubatch: "uint32",
        n_seq_max: "uint32",
        n_rs_seq: "uint32",
        n_outputs_max: "uint32",
        n_outputs_max_per_seq: "uint32",
        n_threads: "int32",
        n_threads_batch: "int32",
        ctx_type: "int32",
        rope_scaling_type: "int32",
        pooling_type: "int32",
        attention_type: "int32",
        flash_attn_type: "int32",
        rope_freq_base: "float",
        rope_freq_scale: "float",
        yarn_ext_factor: "float",
        yarn_attn_factor: "float",
        yarn_beta_fast: "float",
        yarn_beta_slow: "float",
        yarn_orig_ctx: "uint32",
        defrag_thold: "float",
        cb_eval: "void *",
        cb_eval_user_data: "void *",
        type_k: "int32",
        type_v: "int32",
        abort_callback: "void *",
        abort_callback_data: "void *",
        embeddings: "bool",
        offload_kqv: "bool",
        no_perf: "bool",
        op_offload: "bool",
        swa_full: "bool",
        kv_unified: "bool",
        samplers: "void *",
        n_samplers: "size_t",
        ctx_other: "void *",
    });
    const Batch = koffi.struct("hearth_llama_batch", {
        n_tokens: "int32",
        token: "void *",
        embd: "void *",
        pos: "void *",
        n_seq_id: "void *",
        seq_id: "void *",
        logits: "void *",
    });
    // Layout check against sizeof/offsetof from the bundled llama.h (x86-64/aarch64 LP64).
    const expect = [
        [koffi.sizeof(ModelParams), 80], [koffi.offsetof(ModelParams, "vocab_only"), 72],
        [koffi.sizeof(ContextParams), 160], [koffi.offsetof(ContextParams, "flash_attn_type"), 52],
        [koffi.offsetof(ContextParams, "type_k"), 104], [koffi.offsetof(ContextParams, "embeddings"), 128],
        [koffi.offsetof(ContextParams, "samplers"), 136], [koffi.sizeof(Batch), 56],
    ];
    for (const [got, want] of expect)
        if (got !== want) fail(`llama.h struct layout mismatch (${got} != ${want}); node-llama-cpp version changed?`);

    const f = {
        model_default_params: L.func("hearth_llama_model_params llama_model_default_params(void)"),
        context_default_params: L.func("hearth_llama_context_params llama_context_default_params(void)"),
        model_load_from_file: L.func("void *llama_model_load_from_file(const char *path, hearth_llama_model_params params)"),
        model_free: L.func("void llama_model_free(void *model)"),
        init_from_model: L.func("void *llama_init_from_model(void *model, hearth_llama_context_params params)"),
        free: L.func("void llama_free(void *ctx)"),
        model_get_vocab: L.func("void *llama_model_get_vocab(void *model)"),
        vocab_n_tokens: L.func("int32 llama_vocab_n_tokens(void *vocab)"),
        vocab_is_eog: L.func("bool llama_vocab_is_eog(void *vocab, int32 token)"),
        batch_init: L.func("hearth_llama_batch llama_batch_init(int32 n_tokens, int32 embd, int32 n_seq_max)"),
        batch_free: L.func("void llama_batch_free(hearth_llama_batch batch)"),
        decode: L.func("int32 llama_decode(void *ctx, hearth_llama_batch batch)"),
        get_logits_ith: L.func("float *llama_get_logits_ith(void *ctx, int32 i)"),
        get_memory: L.func("void *llama_get_memory(void *ctx)"),
        memory_clear: L.func("void llama_memory_clear(void *mem, bool data)"),
        memory_seq_rm: L.func("bool llama_memory_seq_rm(void *mem, int32 seq_id, int32 p0, int32 p1)"),
        synchronize: L.func("void llama_synchronize(void *ctx)"),
        set_n_threads: L.func("void llama_set_n_threads(void *ctx, int32 n_threads, int32 n_threads_batch)"),
    };

    // ggml CPU threadpool control (as llama-bench's --poll): optional, used when opts.poll is set.
    const TpParams = koffi.struct("hearth_ggml_threadpool_params", {
        cpumask: koffi.array("bool", 512), // GGML_MAX_N_THREADS
        n_threads: "int32",
        prio: "int32",
        poll: "uint32",
        strict_cpu: "bool",
        paused: "bool",
    });
    if (koffi.sizeof(TpParams) !== 528 || koffi.offsetof(TpParams, "poll") !== 520)
        fail("ggml.h ggml_threadpool_params layout mismatch; node-llama-cpp version changed?");
    const dir = path.dirname(libPath);
    const ext = path.extname(libPath) === ".dylib" ? ".dylib" : ".so";
    const ggmlFile = fs.readdirSync(dir).find((n) => n.startsWith("libggml.") && n.endsWith(ext));
    const G = koffi.load(path.join(dir, ggmlFile));
    const GB = koffi.load(path.join(dir, "libggml-base" + ext));
    f.attach_threadpool = L.func("void llama_attach_threadpool(void *ctx, void *tp, void *tp_batch)");
    f.dev_by_type = G.func("void *ggml_backend_dev_by_type(int32 type)");
    f.dev_backend_reg = GB.func("void *ggml_backend_dev_backend_reg(void *dev)");
    f.reg_get_proc_address = GB.func("void *ggml_backend_reg_get_proc_address(void *reg, const char *name)");
    f.threadpool_params_default = GB.func("hearth_ggml_threadpool_params ggml_threadpool_params_default(int32 n_threads)");
    const threadpoolNewProto = koffi.proto("void *hearth_ggml_threadpool_new(hearth_ggml_threadpool_params *params)");

    lib = { koffi, llama, gpu, f, libPath, Batch, threadpoolNewProto };
    return lib;
}

// node-llama-cpp's Llama for the build asked for; exits with a message naming the prebuilt package
// where that build is missing, does not load, or sees no GPU (no silent CPU fallback).
async function loadBuild(getLlama, LlamaLogLevel, gpu) {
    const pkg = `@node-llama-cpp/${process.platform}-${process.arch}-${gpu}`;
    const what = gpu ? `llama.cpp's ${gpu} build (${pkg})` : "llama.cpp";
    let llama;
    try {
        llama = await getLlama({
            gpu,
            build: "never",
            skipDownload: true,
            usePrebuiltBinaries: true,
            progressLogs: false,
            logLevel: LlamaLogLevel.error,
            logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message}\n`),
        });
    } catch (e) {
        const why = String(e.message || e.name || e).split("\n")[0];
        fail(`${what} is unavailable: ${gpu ? whyNotLoaded(pkg, gpu) + `; node-llama-cpp: ${why}` : why}`);
    }
    if (!gpu) return llama;
    if (llama.gpu !== gpu) fail(`${what} is unavailable: node-llama-cpp loaded ${llama.gpu || "the CPU build"} instead`);
    const devices = await llama.getGpuDeviceNames();
    if (devices.length === 0) fail(`${what} loaded but found no GPU device`);
    return llama;
}

// Why a GPU build's prebuilt package did not load: not installed, or the libraries its ggml
// backend needs that the dynamic linker cannot find here (ldd), e.g. CUDA's runtime.
function whyNotLoaded(pkg, gpu) {
    const dir = path.join(here, "node_modules", pkg);
    if (!fs.existsSync(dir)) return "not installed (scripts/setup-reference.sh --keep-gpu-binaries)";
    const bins = path.join(dir, "bins");
    for (const d of fs.existsSync(bins) ? fs.readdirSync(bins) : []) {
        const backend = path.join(bins, d, `libggml-${gpu}.so`);
        if (!fs.existsSync(backend)) continue;
        try {
            const out = execFileSync("ldd", [backend], { encoding: "utf8", env: { ...process.env, LD_LIBRARY_PATH: [path.join(bins, d), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") } });
            const missing = out.split("\n").filter((l) => l.includes("not found")).map((l) => l.trim().split(" ")[0]);
            if (missing.length) return `installed, but ${path.basename(backend)} needs ${missing.join(", ")}, not found here`;
        } catch { /* no ldd */ }
        return "installed, but it did not load here";
    }
    return "installed, but without its ggml backend library";
}

// The libllama node-llama-cpp actually loaded (read from /proc/self/maps), else the first
// prebuilt one found under node_modules/@node-llama-cpp.
function findLoadedLibllama() {
    try {
        for (const line of fs.readFileSync("/proc/self/maps", "utf8").split("\n")) {
            const m = line.match(/\s(\/\S*\/libllama(\.[a-z]+)?(\.v[\d.]+)?\.(so|dylib)(\.[\d.]+)?)$/);
            if (m) return m[1];
        }
    } catch { /* not Linux */ }
    const root = path.join(here, "node_modules", "@node-llama-cpp");
    if (fs.existsSync(root)) {
        for (const pkg of fs.readdirSync(root)) {
            const bins = path.join(root, pkg, "bins");
            if (!fs.existsSync(bins)) continue;
            for (const d of fs.readdirSync(bins)) {
                for (const file of fs.readdirSync(path.join(bins, d)))
                    if (/^libllama(\.v[\d.]+)?\.(so|dylib)$/.test(file)) return path.join(bins, d, file);
            }
        }
    }
    fail("could not locate the libllama shared library loaded by node-llama-cpp");
}

const GGML_TYPE = { f32: 0, f16: 1 };

function callAsync(fn, ...args) {
    return new Promise((resolve, reject) => fn.async(...args, (err, r) => (err ? reject(err) : resolve(r))));
}

// Opens a model and a single-sequence context. `opts`: threads, ctx, batch, kvType ("f16"|"f32"),
// flashAttn (-1 auto, 0 off, 1 on), gpu (false, "vulkan" or "cuda": every layer, the KV cache and
// the ops on the GPU, as node-llama-cpp's gpuLayers "max").
export async function openModel(modelPath, opts) {
    const gpu = opts.gpu ?? false;
    const { f } = await loadLlama(gpu);
    if (!fs.existsSync(modelPath)) fail(`model not found: ${modelPath}`);
    const mp = f.model_default_params();
    mp.n_gpu_layers = gpu ? 999 : 0; // more than any model's layers: all of them, output included
    // Load on a worker thread so llama.cpp's log messages (routed through node-llama-cpp's
    // logger on the JS thread) get printed, including why a model is rejected.
    const model = await callAsync(f.model_load_from_file, modelPath, mp);
    if (!model) {
        await new Promise((r) => setTimeout(r, 100)); // let queued llama.cpp messages drain
        fail(`llama.cpp failed to load model ${modelPath} (llama.cpp's messages above say why)`);
    }
    const vocab = f.model_get_vocab(model);
    const nVocab = f.vocab_n_tokens(vocab);

    const cp = f.context_default_params();
    cp.n_ctx = opts.ctx;
    cp.n_batch = opts.batch;
    cp.n_ubatch = opts.batch;
    cp.n_seq_max = 1;
    cp.n_threads = opts.threads;
    cp.n_threads_batch = opts.threads;
    cp.no_perf = true;
    cp.offload_kqv = Boolean(gpu);
    cp.op_offload = Boolean(gpu);
    if (opts.flashAttn !== undefined) cp.flash_attn_type = opts.flashAttn;
    if (opts.kvType) {
        const t = GGML_TYPE[opts.kvType];
        if (t === undefined) fail(`unknown KV cache type ${opts.kvType} (f16 or f32)`);
        cp.type_k = t;
        cp.type_v = t;
    }
    const ctx = await callAsync(f.init_from_model, model, cp);
    if (!ctx) {
        await new Promise((r) => setTimeout(r, 100));
        fail(`llama.cpp failed to create a context for ${modelPath}`);
    }
    if (opts.poll !== undefined) attachThreadpool(ctx, opts.threads, opts.poll);
    return new Session(model, ctx, vocab, nVocab, opts.batch);
}

// Gives the context its own ggml CPU threadpool with the given polling level (0: threads sleep
// between graph nodes, 100: busy-wait; ggml's default is 50). Same as llama-bench --poll.
function attachThreadpool(ctx, threads, poll) {
    const { f, koffi, threadpoolNewProto } = lib;
    const dev = f.dev_by_type(0); // GGML_BACKEND_DEVICE_TYPE_CPU
    if (!dev) fail("no ggml CPU device");
    const fn = f.reg_get_proc_address(f.dev_backend_reg(dev), "ggml_threadpool_new");
    if (!fn) fail("the ggml CPU backend does not export ggml_threadpool_new");
    const params = f.threadpool_params_default(threads);
    params.poll = poll;
    const tp = koffi.call(fn, threadpoolNewProto, params);
    if (!tp) fail(`ggml_threadpool_new failed for ${threads} threads`);
    f.attach_threadpool(ctx, tp, null); // kept for the life of the process
}

class Session {
    constructor(model, ctx, vocab, nVocab, batchCap) {
        this.model = model;
        this.ctx = ctx;
        this.vocab = vocab;
        this.nVocab = nVocab;
        this.nPast = 0;
        this.batchCap = batchCap;
        const { f, koffi } = lib;
        this.batch = f.batch_init(batchCap, 0, 1);
        // Point every token's seq_id list at sequence 0 once.
        const seqPtrs = koffi.decode(this.batch.seq_id, "void *", batchCap);
        for (let i = 0; i < batchCap; i++) koffi.encode(seqPtrs[i], "int32", 0);
        koffi.encode(this.batch.n_seq_id, "int32", new Array(batchCap).fill(1), batchCap);
    }

    isEog(token) { return lib.f.vocab_is_eog(this.vocab, token); }

    clear() {
        lib.f.memory_clear(lib.f.get_memory(this.ctx), true);
        this.nPast = 0;
    }

    // Forgets positions from n on (sequence 0), keeping the ones before.
    truncate(n) {
        if (!lib.f.memory_seq_rm(lib.f.get_memory(this.ctx), 0, n, -1)) fail(`llama_memory_seq_rm failed at ${n}`);
        this.nPast = n;
    }

    // Evaluates `tokens` at the next positions. `outputs`: "last" | "all". Returns the batch
    // indexes with logits (use logits(i)). Chunks larger than the batch capacity.
    async eval(tokens, outputs = "last") {
        const { f, koffi } = lib;
        let start = 0;
        let outIdx = [];
        while (start < tokens.length) {
            const n = Math.min(this.batchCap, tokens.length - start);
            const chunk = tokens.slice(start, start + n);
            const isLastChunk = start + n === tokens.length;
            const pos = chunk.map((_, i) => this.nPast + i);
            const lg = chunk.map((_, i) => (outputs === "all" || (isLastChunk && i === n - 1)) ? 1 : 0);
            koffi.encode(this.batch.token, "int32", chunk, n);
            koffi.encode(this.batch.pos, "int32", pos, n);
            koffi.encode(this.batch.logits, "int8", lg, n);
            this.batch.n_tokens = n;
            const rc = await callAsync(f.decode, this.ctx, this.batch);
            if (rc !== 0) fail(`llama_decode failed with code ${rc} at position ${this.nPast}`);
            this.nPast += n;
            if (outputs === "all") {
                // Logits of earlier chunks are overwritten by the next decode: copy them now.
                for (let i = 0; i < n; i++) outIdx.push(this.logits(i));
            } else if (isLastChunk) {
                outIdx.push(this.logits(n - 1));
            }
            start += n;
        }
        return outIdx;
    }

    // Synchronous single-token decode without logits copy-out (for timing loops).
    decodeSync(tokens, wantLastLogits = true) {
        const { f, koffi } = lib;
        const n = tokens.length;
        if (n > this.batchCap) fail("decodeSync: too many tokens for the batch");
        koffi.encode(this.batch.token, "int32", tokens, n);
        koffi.encode(this.batch.pos, "int32", tokens.map((_, i) => this.nPast + i), n);
        koffi.encode(this.batch.logits, "int8", tokens.map((_, i) => (wantLastLogits && i === n - 1) ? 1 : 0), n);
        this.batch.n_tokens = n;
        const rc = f.decode(this.ctx, this.batch);
        if (rc !== 0) fail(`llama_decode failed with code ${rc} at position ${this.nPast}`);
        f.synchronize(this.ctx);
        this.nPast += n;
    }

    // Copy of the raw logits for output `i` of the last decode (Float32Array of n_vocab).
    logits(i) {
        const { f, koffi } = lib;
        const p = f.get_logits_ith(this.ctx, i);
        if (!p) fail(`llama_get_logits_ith(${i}) returned NULL`);
        return Float32Array.from(koffi.decode(p, "float", this.nVocab));
    }

    close() {
        const { f } = lib;
        f.batch_free(this.batch);
        f.free(this.ctx);
        f.model_free(this.model);
    }
}

export function argmax(v) {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
}
