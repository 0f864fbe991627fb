#include <cstdio>

#include "cli/commands.h"

namespace hearth::cli {
namespace {
int g_exit_code = 0;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

void fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    set_exit_code(1);
}

}  // namespace hearth::cli
