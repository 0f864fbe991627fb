// The CPU as a Device: weights stay in host memory, copied out of the file's mapping or
// re-laid out for the kernels at load (see prepare_matrix), and each backend is a
// thread pool over the ISA's kernels.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_kernels.h"

namespace hearth::kernels {
namespace {

class CpuDevice final : public Device {
public:
    CpuDevice() {
        info_.name = "cpu-" + std::string(isa_name(cpu_kernels().isa));
        info_.kind = "cpu";
        const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
        info_.memory_bytes = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
    }

    const DeviceInfo& info() const override { return info_; }

    // Every multiplied matrix ends up in memory of its own: packed for the kernels where
    // they want another layout, else copied as it is. Decode streams all of it once per
    // token, and anonymous huge pages read faster than the file's page cache, even
    // mapped in 2 MiB pages (2-core KVM host, Llama-1B-shape Q8_0 tg 2 threads, copy
    // against mapping in interleaved pairs: median x1.20 over 6 pairs, 1.09-1.48).
    // Without memory for a copy the matrix stays in the mapping.
    Result<std::unique_ptr<Weights>> prepare_matrix(const WeightView& v, const PrepareOptions& o) override {
        WeightMatrix m{v.type, v.data, v.rows, v.cols, v.row_bytes};
        if (!o.multiplied) return own(m, {}, true);  // read row by row (get_rows), in place
        // HEARTH_WEIGHT_PANELS=0 keeps the stored layout, for kernel comparisons.
        const char* panels_env = std::getenv("HEARTH_WEIGHT_PANELS");
        const bool panels = o.relayout && (panels_env == nullptr || std::strcmp(panels_env, "0") != 0);
        if (panels) {
            if (PackedWeights p = pack_for_matmul(m); p.bytes) return own(m, std::move(p), false);
        }
        if (!o.copy) return own(m, {}, true);
        PackedWeights c;
        c.size = v.bytes();
        c.bytes = allocate_large_buffer(c.size);
        if (!c.bytes) return own(m, {}, true);
        std::memcpy(c.bytes.get(), v.data, c.size);
        m.data = c.bytes.get();
        return own(m, std::move(c), false);
    }

    Result<std::unique_ptr<Weights>> prepare_vector(const float* values, int64_t n) override {
        return std::unique_ptr<Weights>(std::make_unique<CpuWeights>(values, n));
    }

    Result<std::unique_ptr<Backend>> make_backend(int n_threads) override { return make_cpu_backend(n_threads); }

private:
    static Result<std::unique_ptr<Weights>> own(const WeightMatrix& m, PackedWeights memory, bool reads_host) {
        return std::unique_ptr<Weights>(std::make_unique<CpuWeights>(m, std::move(memory), reads_host));
    }

    DeviceInfo info_;
};

}  // namespace

const CpuWeights& cpu_weights(const Weights& w) { return static_cast<const CpuWeights&>(w); }

std::shared_ptr<Device> cpu_device() {
    static const std::shared_ptr<Device> device = std::make_shared<CpuDevice>();
    return device;
}

}  // namespace hearth::kernels
