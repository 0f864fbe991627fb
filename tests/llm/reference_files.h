// Readers for the stories260K reference outputs in shared/data/reference/stories260K.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace hearth::test {

// "PROMPT_IDS: ..." and "NEXT_IDS (...): ..." lines of a .ids file.
struct ReferenceIds {
    std::vector<int32_t> prompt, next;
};

inline std::vector<int32_t> parse_ids(const std::string& s) {
    std::vector<int32_t> ids;
    std::istringstream in(s);
    int32_t id;
    while (in >> id) ids.push_back(id);
    return ids;
}

inline ReferenceIds read_reference_ids(const std::string& path) {
    ReferenceIds r;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        if (line.rfind("PROMPT_IDS", 0) == 0) r.prompt = parse_ids(line.substr(colon + 1));
        if (line.rfind("NEXT_IDS", 0) == 0) r.next = parse_ids(line.substr(line.find("):") + 2));
    }
    return r;
}

// "LOGITS pos=N token=T: v v v ..." lines, by position.
inline std::map<int, std::vector<float>> read_reference_logits(const std::string& path) {
    std::map<int, std::vector<float>> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("LOGITS pos=", 0) != 0) continue;
        const int pos = std::stoi(line.substr(11));
        std::istringstream values(line.substr(line.find(':') + 1));
        float v;
        while (values >> v) out[pos].push_back(v);
    }
    return out;
}

}  // namespace hearth::test
