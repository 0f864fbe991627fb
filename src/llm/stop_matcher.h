// Stop strings over streamed text: what may be shown now, what must wait.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hearth::llm {

// Holds back text that might be the start of a stop string; finds complete ones.
class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
    // Adds text; returns the part now safe to emit. Sets stopped() when a stop string
    // appears (the text before it is returned, the rest dropped).
    std::string push(std::string_view text);
    std::string flush();  // at the end: whatever was held back
    bool stopped() const { return stopped_; }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace hearth::llm
