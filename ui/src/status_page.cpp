// The status page: for a node, its models, slots, queue and speed (/status and /metrics);
// for a gateway, its nodes, their health and load, and the models each serves.
#include <cstdio>

#include "markdown.h"
#include "pages.h"

namespace hearth::ui {
namespace {

constexpr double kRefreshMs = 2000;

struct StatusState {
    bool shown = false;
    bool scheduled = false;  // a refresh is pending
    Json status;
    std::string metrics;
};

StatusState& state() {
    static StatusState s;
    return s;
}

std::string cell(const std::string& text) { return "<td>" + escape_html(text) + "</td>"; }
std::string num(double v, int decimals = 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}
std::string count(const Json& j, const char* key) { return num(number_field(j, key)); }

// The value of an unlabelled Prometheus sample, or -1.
double metric(const std::string& text, const std::string& name) {
    size_t at = 0;
    while ((at = text.find(name, at)) != std::string::npos) {
        const bool line_start = at == 0 || text[at - 1] == '\n';
        const size_t after = at + name.size();
        if (line_start && after < text.size() && text[after] == ' ')
            return val::global("Number")(text.substr(after + 1, text.find('\n', after) - after - 1)).as<double>();
        at = after;
    }
    return -1;
}

std::string names(const Json& list, bool loaded_only = false) {
    std::string out;
    if (!list.is_array()) return out;
    for (const auto& item : list) {
        const std::string id = item.is_string() ? item.get<std::string>() : text_field(item, "id");
        if (id.empty()) continue;
        const bool loaded = !item.is_object() || !item.contains("loaded") || item["loaded"] == true;
        out += (out.empty() ? "" : ", ") + id + (loaded || loaded_only ? "" : " (on demand)");
    }
    return out.empty() ? "—" : out;
}

std::string render_node(const Json& s, const std::string& metrics) {
    const double tps = metric(metrics, "hearth_tokens_per_second");
    std::string html = "<div class=\"cards\">";
    auto card = [&](const std::string& label, const std::string& value) {
        html += "<div class=\"card\"><div class=\"label\">" + label + "</div><div class=\"value\">" + escape_html(value) + "</div></div>";
    };
    card("Slots busy", count(s, "slots_busy") + " / " + count(s, "slots_total"));
    card("Queued", count(s, "queued"));
    card("Tokens/s", tps < 0 ? "—" : num(tps, 1));
    card("Version", text_field(s, "version"));
    html += "</div><h3>Models</h3><div class=\"table\"><table><thead><tr><th>Model</th><th>Loaded</th><th>Slots</th>"
            "<th>Queued</th><th>KV cache</th></tr></thead><tbody>";
    if (auto models = s.find("models"); models != s.end() && models->is_array()) {
        for (const auto& m : *models) {
            const bool loaded = m.value("loaded", false);
            html += "<tr>" + cell(text_field(m, "id")) + cell(loaded ? "yes" : "on demand") +
                    cell(count(m, "slots_busy") + " / " + count(m, "slots_total")) + cell(count(m, "queued")) +
                    cell(count(m, "kv_tokens_used") + " / " + count(m, "kv_tokens_total") + " tokens") + "</tr>";
        }
    }
    html += "</tbody></table></div><h3>Voices</h3><p>" + escape_html(names(s.value("voices", Json::array()), true)) + "</p>";
    return html;
}

std::string render_gateway(const Json& s) {
    std::string html = "<div class=\"cards\"><div class=\"card\"><div class=\"label\">Queued at the gateway</div><div class=\"value\">" +
                       count(s, "queued") + "</div></div></div><h3>Nodes</h3><div class=\"table\"><table><thead><tr>"
                       "<th>Node</th><th>Health</th><th>Models</th><th>Slots busy</th><th>Queued</th><th>In flight</th>"
                       "<th>Requests</th><th>Failures</th><th>Last error</th></tr></thead><tbody>";
    if (auto nodes = s.find("nodes"); nodes != s.end() && nodes->is_array()) {
        for (const auto& n : *nodes) {
            const bool up = n.value("up", false);
            html += "<tr class=\"" + std::string(up ? "up" : "down") + "\">" + cell(text_field(n, "url")) +
                    "<td><span class=\"dot\"></span>" + (up ? "up" : "down") + "</td>" +
                    cell(names(n.value("models", Json::array()))) +
                    cell(count(n, "slots_busy") + " / " + count(n, "slots_total")) + cell(count(n, "queued")) +
                    cell(count(n, "inflight")) + cell(count(n, "requests")) + cell(count(n, "failures")) +
                    cell(text_field(n, "last_error")) + "</tr>";
        }
    }
    return html + "</tbody></table></div>";
}

void render() {
    const auto& s = state();
    const bool gateway = text_field(s.status, "object") == "hearth.gateway.status";
    set_text("status-kind", gateway ? "Gateway" : "Node");
    set_html("status", gateway ? render_gateway(s.status) : render_node(s.status, s.metrics));
}

void refresh();

void schedule() {
    auto& s = state();
    if (s.scheduled || !s.shown) return;
    s.scheduled = true;
    after(kRefreshMs, [] {
        state().scheduled = false;
        refresh();
    });
}

void refresh() {
    if (!state().shown) return;
    fetch_json("status", nullptr, [](const Json* reply, const RequestError* error) {
        if (error) {
            set_html("status", "<div class=\"error\">" + escape_html(error->message) + "</div>");
            // Without a key there is nothing to poll for: show_status_page starts again after one is saved.
            if (error->status == 401) return ask_for_api_key(*error);
            schedule();
            return;
        }
        state().status = *reply;
        fetch_text("metrics", [](const std::string* text, const RequestError*) {
            state().metrics = text ? *text : std::string();
            render();
            schedule();
        });
    });
}

}  // namespace

void show_status_page(bool shown) {
    const bool was = state().shown;
    state().shown = shown;
    if (shown && !was) refresh();
}

void reload_status_page() {
    if (state().shown && !state().scheduled) refresh();
}

}  // namespace hearth::ui
