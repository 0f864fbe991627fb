// Choosing a device by name, and listing them. The one place that knows which device
// kinds this build has.
#include <cstdio>
#include <string>

#include "kernels/backend.h"
#ifdef HEARTH_VULKAN
#include "kernels/vulkan/vulkan_devices.h"
#endif

namespace hearth::kernels {

std::string DeviceInfo::describe() const {
    if (kind == "cpu") return name;
    char line[512];
    std::snprintf(line, sizeof line, "%s:%d %s (%s), %.1f GiB, int-dot %s, fp16 %s, coopmat %s", kind.c_str(), index,
                  name.c_str(), driver.empty() ? "driver unknown" : driver.c_str(),
                  static_cast<double>(memory_bytes) / (1u << 30), int_dot ? "yes" : "no", fp16 ? "yes" : "no",
                  coopmat ? "yes" : "no");
    return line;
}

std::string vulkan_unavailable_reason() {
#ifdef HEARTH_VULKAN
    return vulkan_probe_error();
#else
    return "this hearth was built without Vulkan (libvulkan-dev and glslc were not found)";
#endif
}

std::vector<DeviceInfo> list_devices() {
    std::vector<DeviceInfo> all{cpu_device()->info()};
#ifdef HEARTH_VULKAN
    for (DeviceInfo& d : vulkan_list_devices()) all.push_back(std::move(d));
#endif
    return all;
}

namespace {

Result<std::shared_ptr<Device>> open_vulkan(int index) {
#ifdef HEARTH_VULKAN
    return open_vulkan_device(index);
#else
    (void)index;
    return make_error(vulkan_unavailable_reason());
#endif
}

// auto: the first Vulkan device that is real hardware. A software rasterizer (Mesa's
// llvmpipe) is slower than our own CPU kernels, so auto passes it over.
Result<std::shared_ptr<Device>> open_auto(std::string* note) {
    std::string why = vulkan_unavailable_reason();
#ifdef HEARTH_VULKAN
    if (why.empty()) {
        const std::vector<DeviceInfo> gpus = vulkan_list_devices();
        for (size_t i = 0; i < gpus.size(); ++i) {
            if (vulkan_device_is_software(static_cast<int>(i))) continue;
            auto d = open_vulkan_device(static_cast<int>(i));
            if (d) {
                if (note) *note = "device: " + (*d)->info().describe();
                return d;
            }
            why = gpus[i].name + ": " + d.error().message;
        }
        if (why.empty()) why = "the only Vulkan device is a software renderer (" + gpus.front().name + ")";
    }
#endif
    std::shared_ptr<Device> cpu = cpu_device();
    if (note) *note = "device: " + cpu->info().describe() + ", no GPU used: " + why;
    return cpu;
}

}  // namespace

Result<std::shared_ptr<Device>> open_device(const std::string& spec, std::string* note) {
    if (spec.empty() || spec == "auto") return open_auto(note);
    Result<std::shared_ptr<Device>> d = make_error("unknown device '" + spec + "' (auto, cpu, vulkan or vulkan:N)");
    if (spec == "cpu") {
        d = cpu_device();
    } else if (spec == "vulkan") {
        d = open_vulkan(0);
    } else if (spec.rfind("vulkan:", 0) == 0) {
        const std::string n = spec.substr(7);
        if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos) return d;
        d = open_vulkan(std::stoi(n));
    } else {
        return d;
    }
    if (!d) return make_error("device " + spec + ": " + d.error().message);
    if (note) *note = "device: " + (*d)->info().describe();
    return d;
}

}  // namespace hearth::kernels
