// Incremental separation of model output into content and tool calls, per format.
//
// The parser keeps the undecided tail of the output in `buf`; every decision (this text
// is content, this text is a tool call) is taken only once the bytes seen so far settle
// it, and never depends on where the chunks were split, so the concatenated deltas are the
// same for any chunking. A tool call is emitted whole once its JSON is complete; a call
// that never becomes valid is given back as content (its raw text).
#include <algorithm>
#include <random>

#include "chat/chat.h"
#include "chat/tool_call_json.h"

namespace hearth::chat {

using detail::JsonSpanScanner;
using detail::ParsedCall;

namespace {

constexpr std::string_view kWhitespace = " \t\r\n";

// Where the first marker starts in text[from..]: {offset, marker index}. A marker cut off
// by the end of the text is reported with index -1 unless `final` (then it is just text).
std::pair<size_t, int> find_marker(std::string_view text, size_t from, std::initializer_list<std::string_view> markers,
                                   bool final) {
    for (size_t i = from; i < text.size(); ++i) {
        int k = 0;
        for (std::string_view m : markers) {
            if (text[i] == m[0]) {
                std::string_view rest = text.substr(i);
                if (rest.size() >= m.size()) {
                    if (rest.substr(0, m.size()) == m) return {i, k};
                } else if (!final && m.substr(0, rest.size()) == rest) {
                    return {i, -1};
                }
            }
            ++k;
        }
    }
    return {std::string_view::npos, 0};
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

struct ToolCallParser::State {
    explicit State(ToolCallFormat f) : format(f), rng(std::random_device{}()) {}

    ToolCallFormat format;
    std::string buf;  // output not yet decided
    ParsedDelta* out = nullptr;
    std::string held_ws;  // trailing whitespace of the content, dropped next to tool calls
    bool saw_calls = false;
    int next_index = 0;
    std::mt19937_64 rng;

    // Per-format position. `cur` indexes buf: buf[0..cur) is the raw text of the call
    // being read (given back as content if it turns out not to be one).
    int mode = 0;
    size_t cur = 0;
    JsonSpanScanner scanner;
    bool scanning = false;
    std::string call_name;
    bool after_tag = false;

    void content(std::string_view s) {
        size_t last = s.find_last_not_of(kWhitespace);
        if (last == std::string_view::npos) {
            held_ws.append(s);
            return;
        }
        out->content += held_ws;
        held_ws.clear();
        out->content.append(s.substr(0, last + 1));
        held_ws.assign(s.substr(last + 1));
    }

    void call(ParsedCall c) {
        static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        ToolCallDelta d;
        d.index = next_index++;
        d.id = "call_";
        for (int i = 0; i < 24; ++i) d.id += kAlnum[rng() % 62];
        d.name = std::move(c.name);
        d.arguments = std::move(c.arguments);
        out->tool_calls.push_back(std::move(d));
        held_ws.clear();
        saw_calls = true;
    }

    // Gives buf[0..n) back as content and forgets it.
    void give_back(size_t n) {
        content(std::string_view(buf).substr(0, n));
        buf.erase(0, n);
        cur = 0;
        scanning = false;
    }
    void consume(size_t n) {
        buf.erase(0, n);
        cur = 0;
        scanning = false;
    }

    // Scans a JSON object/array starting at buf[cur]; returns its end once complete.
    std::optional<size_t> scan_json() {
        if (!scanning) {
            scanner.reset(cur);
            scanning = true;
        }
        return scanner.scan(buf);
    }

    void run(bool final);
    void run_hermes(bool final);
    void run_llama3(bool final);
    void run_mistral(bool final);
};

// ---- Hermes: text <tool_call>{json}</tool_call> ... -------------------------------------

void ToolCallParser::State::run_hermes(bool final) {
    enum { Text, InCall };
    static constexpr std::string_view kOpen = "<tool_call>", kClose = "</tool_call>";
    for (;;) {
        if (mode == Text) {
            auto [i, k] = find_marker(buf, 0, {kOpen}, final);
            if (i == std::string_view::npos) return give_back(buf.size());
            give_back(i);
            if (k < 0) return;  // maybe the start of <tool_call>
            cur = kOpen.size();
            mode = InCall;
        }
        // InCall: the body runs to </tool_call> (or to the end of the output).
        size_t close = buf.find(kClose, cur);
        if (close == std::string::npos) {
            if (!final) {
                cur = std::max(kOpen.size(), buf.size() >= kClose.size() ? buf.size() - kClose.size() + 1 : 0);
                return;
            }
            auto c = detail::parse_call_text(std::string_view(buf).substr(kOpen.size()));
            if (c) {
                call(std::move(*c));
                consume(buf.size());
            } else {
                give_back(buf.size());
            }
            mode = Text;
            return;
        }
        auto c = detail::parse_call_text(std::string_view(buf).substr(kOpen.size(), close - kOpen.size()));
        if (c) {
            call(std::move(*c));
            consume(close + kClose.size());
        } else {
            give_back(close + kClose.size());
        }
        mode = Text;
    }
}

// ---- Llama 3: [<|python_tag|>]{"name":..,"parameters":{..}}[; or newline ...] -------------

void ToolCallParser::State::run_llama3(bool final) {
    enum { Start, Text, Calls, Code };
    static constexpr std::string_view kTag = "<|python_tag|>";
    static constexpr std::string_view kEom = "<|eom_id|>", kEot = "<|eot_id|>";
    for (;;) {
        switch (mode) {
            case Start: {
                size_t j = buf.find_first_not_of(kWhitespace);
                if (j == std::string::npos) {
                    if (final) give_back(buf.size());
                    return;
                }
                std::string_view rest = std::string_view(buf).substr(j);
                if (buf[j] == '{' || starts_with(rest, kTag)) {
                    give_back(j);  // leading whitespace: held, dropped if a call follows
                    mode = Calls;
                } else if (!final && starts_with(kTag, rest)) {
                    return;
                } else {
                    mode = Text;
                }
                break;
            }
            case Text: {
                auto [i, k] = find_marker(buf, 0, {kTag}, final);
                if (i == std::string_view::npos) return give_back(buf.size());
                give_back(i);
                if (k < 0) return;
                mode = Calls;
                break;
            }
            case Calls: {
                // Separators between calls; buf[0..cur) is pending raw text (tags, ';').
                for (;;) {
                    size_t j = buf.find_first_not_of(" \t\r\n;", cur);
                    if (j == std::string::npos) {
                        cur = buf.size();
                        break;
                    }
                    cur = j;
                    std::string_view rest = std::string_view(buf).substr(cur);
                    if (starts_with(rest, kTag)) {
                        cur += kTag.size();
                        after_tag = true;
                    } else if (starts_with(rest, kEom) || starts_with(rest, kEot)) {
                        cur += kEom.size();
                    } else {
                        break;
                    }
                }
                if (cur >= buf.size()) {
                    if (final) {
                        // Only separators (and tags) left: a trailing tag alone is content.
                        if (after_tag && !saw_calls) give_back(buf.size());
                        else consume(buf.size());
                    }
                    return;
                }
                std::string_view rest = std::string_view(buf).substr(cur);
                if (!final && (starts_with(kTag, rest) || starts_with(kEom, rest) || starts_with(kEot, rest)))
                    return;  // a tag still arriving
                if (buf[cur] == '{') {
                    auto end = scan_json();
                    if (!end) {
                        if (final) give_back(buf.size());
                        return;
                    }
                    auto c = detail::parse_call_text(std::string_view(buf).substr(cur, *end - cur));
                    if (!c) {
                        give_back(*end);  // JSON that is not a call: the rest is plain text
                        mode = Text;
                        break;
                    }
                    call(std::move(*c));
                    consume(*end);
                    after_tag = false;
                    break;
                }
                if (after_tag) {
                    mode = Code;  // <|python_tag|> followed by code or a built-in tool call
                    break;
                }
                give_back(cur);
                mode = Text;
                break;
            }
            case Code: {
                size_t end = buf.find(kEom, cur);
                if (end == std::string::npos) end = buf.find(kEot, cur);
                if (end == std::string::npos && !final) return;
                if (end == std::string::npos) end = buf.size();
                auto c = detail::parse_python_call(std::string_view(buf).substr(cur, end - cur));
                if (c) {
                    call(std::move(*c));
                    consume(std::min(buf.size(), end + (end < buf.size() ? kEom.size() : 0)));
                    after_tag = false;
                    mode = Calls;
                } else {
                    give_back(buf.size());
                    mode = Text;
                    if (final) return;
                }
                break;
            }
        }
    }
}

// ---- Mistral: [TOOL_CALLS][{..},..]  or  [TOOL_CALLS]name[CALL_ID]id[ARGS]{..} -------------

void ToolCallParser::State::run_mistral(bool final) {
    enum { Text, After, Array, Name, CallId, Args };
    static constexpr std::string_view kCalls = "[TOOL_CALLS]", kArgs = "[ARGS]", kCallId = "[CALL_ID]";
    for (;;) {
        switch (mode) {
            case Text: {
                auto [i, k] = find_marker(buf, 0, {kCalls}, final);
                if (i == std::string_view::npos) return give_back(buf.size());
                give_back(i);
                if (k < 0) return;
                cur = kCalls.size();
                mode = After;
                break;
            }
            case After: {
                size_t j = buf.find_first_not_of(kWhitespace, cur);
                if (j == std::string::npos) {
                    if (final) give_back(buf.size()), mode = Text;
                    return;
                }
                cur = j;
                mode = buf[j] == '[' ? Array : Name;
                break;
            }
            case Array: {
                auto end = scan_json();
                if (!end) {
                    if (final) give_back(buf.size()), mode = Text;
                    return;
                }
                nlohmann::ordered_json arr =
                    nlohmann::ordered_json::parse(std::string_view(buf).substr(cur, *end - cur), nullptr, false);
                std::vector<ParsedCall> calls;
                bool ok = arr.is_array() && !arr.empty();
                if (ok)
                    for (const auto& item : arr) {
                        auto c = detail::parse_call_object(item);
                        if (!c) {
                            ok = false;
                            break;
                        }
                        calls.push_back(std::move(*c));
                    }
                if (ok) {
                    for (auto& c : calls) call(std::move(c));
                    consume(*end);
                } else {
                    give_back(*end);
                }
                mode = Text;
                break;
            }
            case Name:
            case CallId: {
                auto [i, k] = find_marker(buf, cur, {kArgs, kCallId, kCalls}, final);
                if (i == std::string_view::npos || k < 0) {
                    if (final) give_back(buf.size()), mode = Text;
                    return;
                }
                if (mode == Name) {
                    std::string_view name = std::string_view(buf).substr(cur, i - cur);
                    while (!name.empty() && kWhitespace.find(name.back()) != std::string_view::npos)
                        name.remove_suffix(1);
                    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                    });
                    if (!valid || k == 2) {
                        give_back(i);
                        mode = Text;
                        break;
                    }
                    call_name = std::string(name);
                } else if (k != 0) {  // after [CALL_ID] only [ARGS] may follow
                    give_back(i);
                    mode = Text;
                    break;
                }
                cur = i + (k == 0 ? kArgs.size() : kCallId.size());
                mode = k == 0 ? Args : CallId;
                break;
            }
            case Args: {
                size_t j = buf.find_first_not_of(kWhitespace, cur);
                if (j == std::string::npos) {
                    if (final) give_back(buf.size()), mode = Text;
                    return;
                }
                if (buf[j] != '{') {
                    give_back(j);
                    mode = Text;
                    break;
                }
                cur = j;
                auto end = scan_json();
                if (!end) {
                    if (final) give_back(buf.size()), mode = Text;
                    return;
                }
                nlohmann::ordered_json args =
                    nlohmann::ordered_json::parse(std::string_view(buf).substr(cur, *end - cur), nullptr, false);
                if (args.is_object()) {
                    call(ParsedCall{call_name, detail::compact_json(args)});
                    consume(*end);
                } else {
                    give_back(*end);
                }
                mode = Text;
                break;
            }
        }
    }
}

void ToolCallParser::State::run(bool final) {
    switch (format) {
        case ToolCallFormat::None: give_back(buf.size()); break;
        case ToolCallFormat::Hermes: run_hermes(final); break;
        case ToolCallFormat::Llama3: run_llama3(final); break;
        case ToolCallFormat::Mistral: run_mistral(final); break;
    }
    if (final) {
        if (!buf.empty()) give_back(buf.size());
        // Whitespace at the very end is content only for plain answers.
        if (!saw_calls) out->content += held_ws;
        held_ws.clear();
    }
}

ToolCallParser::ToolCallParser(ToolCallFormat format) : state_(std::make_unique<State>(format)) {}
ToolCallParser::~ToolCallParser() = default;

ParsedDelta ToolCallParser::push(std::string_view text) {
    ParsedDelta d;
    state_->out = &d;
    if (state_->format == ToolCallFormat::None) {
        d.content.assign(text);  // nothing to hold back
    } else {
        state_->buf.append(text);
        state_->run(false);
    }
    state_->out = nullptr;
    return d;
}

ParsedDelta ToolCallParser::finish() {
    ParsedDelta d;
    state_->out = &d;
    state_->run(true);
    state_->out = nullptr;
    return d;
}

bool ToolCallParser::saw_tool_calls() const { return state_->saw_calls; }

}  // namespace hearth::chat
