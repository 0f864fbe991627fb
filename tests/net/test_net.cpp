#include <gtest/gtest.h>

#include "net/access_log.h"
#include "net/http_client.h"
#include "net/request.h"

namespace hearth::net {
namespace {

TEST(NetUrl, ParsesAndSpellsBaseUrlsOneWay) {
    auto u = Url::parse("http://10.0.0.5:8080/");
    ASSERT_TRUE(u.ok()) << u.error().message;
    EXPECT_EQ(u->host, "10.0.0.5");
    EXPECT_EQ(u->port, "8080");
    EXPECT_EQ(u->prefix, "");
    EXPECT_EQ(u->to_string(), "http://10.0.0.5:8080");
    EXPECT_EQ(Url::parse("http://box/api/")->to_string(), "http://box:80/api");
    EXPECT_EQ(Url::parse("http://[::1]:9000")->to_string(), "http://[::1]:9000");
    for (const char* bad : {"https://a", "ftp://a", "http://", "http://:80", "http://a:0", "http://a:x", "http://a:1?q",
                            "http://u:p@a:1", "http://[::1"}) {
        EXPECT_FALSE(Url::parse(bad).ok()) << bad;
    }
}

TEST(NetRequest, RequestIdsBearerAndPaths) {
    HttpRequest req;
    EXPECT_EQ(request_id(req).rfind("req-", 0), 0u);
    EXPECT_EQ(request_id(req).size(), 20u);
    EXPECT_NE(request_id(req), request_id(req));
    req.set("X-Request-Id", "abc-123");
    EXPECT_EQ(request_id(req), "abc-123");
    req.set("X-Request-Id", "has space");
    EXPECT_NE(request_id(req), "has space");
    EXPECT_FALSE(bearer_matches(req, "k"));
    req.set(http::field::authorization, "Bearer k");
    EXPECT_TRUE(bearer_matches(req, "k"));
    EXPECT_FALSE(bearer_matches(req, "kk"));
    req.set(http::field::authorization, "bearer k");
    EXPECT_TRUE(bearer_matches(req, "k"));
}

TEST(NetRequest, JsonBodiesWithHugeObjectsAreRefusedBeforeParsing) {
    auto ok = parse_json_body(R"({"model":"m","messages":[{"role":"user","content":"a:b {x: y}"}]})");
    ASSERT_TRUE(std::holds_alternative<nlohmann::ordered_json>(ok));
    EXPECT_EQ(std::get<nlohmann::ordered_json>(ok).begin().key(), "model");  // order kept
    auto bad = parse_json_body("{nope");
    ASSERT_TRUE(std::holds_alternative<ApiError>(bad));
    EXPECT_EQ(std::get<ApiError>(bad).status, 400);
    std::string many = "{\"logit_bias\":{";
    for (int i = 0; i <= kMaxJsonKeys; ++i) many += (i ? ",\"" : "\"") + std::to_string(i) + "\":1";
    many += "}}";
    auto huge = parse_json_body(many);
    ASSERT_TRUE(std::holds_alternative<ApiError>(huge));
    EXPECT_NE(std::get<ApiError>(huge).message.find("more than 4096 keys"), std::string::npos);
    // As many keys spread over small objects in an array are fine.
    std::string spread = "[";
    for (int i = 0; i < 3 * kMaxJsonKeys; ++i) spread += (i ? ",{\"k\":1}" : "{\"k\":1}");
    EXPECT_TRUE(std::holds_alternative<nlohmann::ordered_json>(parse_json_body(spread + "]")));
}

TEST(NetRequest, UrlDecodePath) {
    EXPECT_EQ(url_decode_path("/v1/models/a%20b"), "/v1/models/a b");
    EXPECT_EQ(url_decode_path("/%2e%2E/x"), "/../x");
    EXPECT_FALSE(url_decode_path("/%zz").has_value());
    EXPECT_FALSE(url_decode_path("/%4").has_value());
    EXPECT_FALSE(url_decode_path("/%").has_value());
    EXPECT_FALSE(url_decode_path("/a%00b").has_value());
    EXPECT_EQ(*url_decode_path("/v1/models/a%2Fb"), "/v1/models/a/b");
}

TEST(NetAccessLog, OneLineWithDashesWhereNothingApplies) {
    AccessRecord r{"req-1", "POST", "/v1/chat/completions", "m", "http://n:1", 200, 12, 40, 35.14, 420.66};
    const std::string line = format_access_line(r);
    EXPECT_NE(line.find(" req-1 POST /v1/chat/completions model=m node=http://n:1 status=200 prompt=12 completion=40 "
                        "ttft_ms=35.1 ms=420.7"),
              std::string::npos)
        << line;
    EXPECT_EQ(line.find('\n'), std::string::npos);
    r.model = "evil\n2026 forged line";
    EXPECT_NE(format_access_line(r).find("model=evil?2026?forged?line node="), std::string::npos);
    AccessRecord empty{"req-2", "GET", "/health"};
    empty.status = 200;
    EXPECT_NE(format_access_line(empty).find("model=- status=200 prompt=- completion=- ttft_ms=- ms=0.0"),
              std::string::npos);
}

}  // namespace
}  // namespace hearth::net
