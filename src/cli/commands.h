// hearth/cli — the `hearth` executable: one CLI11 app whose subcommands call into the
// libraries below. Each subcommand lives in its own cmd_<name>.cpp and registers
// itself here; this layer owns argument parsing and printing, nothing else.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace hearth::cli {

// Each adds one subcommand (with its callback) to the app. A callback reports
// failure through set_exit_code(); main() returns exit_code().
void add_inspect_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_say_command(CLI::App& app);
void add_gateway_command(CLI::App& app);
void add_convert_command(CLI::App& app);

void set_exit_code(int code);
int exit_code();

// Prints "error: <message>" to stderr and sets exit code 1.
void fail(const std::string& message);

}  // namespace hearth::cli
