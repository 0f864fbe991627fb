// Reading llama.cpp-style vocab test files: NAME.inp holds test strings, each followed
// by "\n__ggml_vocab_test__\n"; NAME.out holds, per string, its expected ids on one line.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace hearth::test {

struct VocabCase {
    std::string text;
    std::vector<int32_t> ids;
};

inline std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Returns false when the files are missing or their case counts differ.
inline bool read_vocab_cases(const std::string& inp_path, const std::string& out_path, std::vector<VocabCase>& cases) {
    const std::string inp = slurp(inp_path);
    const std::string out = slurp(out_path);
    if (inp.empty() || out.empty()) return false;
    static const std::string kSep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    size_t pos = 0;
    while (true) {
        const size_t at = inp.find(kSep, pos);
        if (at == std::string::npos) break;
        texts.push_back(inp.substr(pos, at - pos));
        pos = at + kSep.size();
    }
    std::vector<std::vector<int32_t>> expected;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream nums(line);
        std::vector<int32_t> ids;
        int64_t x;
        while (nums >> x) ids.push_back(static_cast<int32_t>(x));
        expected.push_back(std::move(ids));
    }
    if (texts.size() != expected.size()) return false;
    cases.clear();
    for (size_t i = 0; i < texts.size(); ++i) cases.push_back({texts[i], expected[i]});
    return true;
}

}  // namespace hearth::test
