// Runs a command line through the shell and captures its stdout and exit status,
// for tests of the `hearth` executable.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/shared_data.h"

namespace hearth::test {

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout, with stderr too when the command redirects it
};

inline CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline std::string hearth_binary() { return (binary_dir() / "bin" / "hearth").string(); }

}  // namespace hearth::test
