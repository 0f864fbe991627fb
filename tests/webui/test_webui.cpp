#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/shared_data.h"
#include "webui/embedded_files.h"
#include "webui/static_files.h"
#include "webui/webui.h"

namespace hearth::webui {
namespace {
namespace fs = std::filesystem;

TEST(StaticFiles, ResolvesInsideTheRootOnly) {
    const auto root = hearth::test::scratch_dir("webui_static");
    fs::create_directories(root / "ui" / "css");
    std::ofstream(root / "ui" / "index.html") << "hi";
    std::ofstream(root / "ui" / "css" / "a.css") << "x";
    std::ofstream(root / "secret") << "no";
    fs::create_symlink(root / "secret", root / "ui" / "link");
    const std::string ui = (root / "ui").string();
    const std::string canon = fs::canonical(root / "ui").string();
    EXPECT_EQ(resolve_static_path(ui, "/"), canon + "/index.html");
    EXPECT_EQ(resolve_static_path(ui, "/css/a.css"), canon + "/css/a.css");
    EXPECT_EQ(resolve_static_path(ui, "/css/"), canon + "/css/index.html");
    for (const char* bad : {"/../secret", "/css/../../secret", "/./index.html", "//etc/passwd", "/link", "css/a.css",
                            "/a\\..\\secret", ""}) {
        EXPECT_FALSE(resolve_static_path(ui, bad).has_value()) << bad;
    }
}

TEST(StaticFiles, MimeTypes) {
    EXPECT_EQ(mime_type("/x/index.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("a.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type("a.wasm"), "application/wasm");
    EXPECT_EQ(mime_type("README"), "application/octet-stream");
}

// The files ui/ builds, as the binary carries them: the page loads the loader, the loader
// the module, and the module is WebAssembly.
TEST(EmbeddedUi, CarriesThePageTheLoaderAndTheModule) {
    if (!embedded()) GTEST_SKIP() << "built without the web UI (no emscripten)";
    const EmbeddedFile* page = find_embedded_file("/");
    const EmbeddedFile* loader = find_embedded_file("/hearth-ui.js");
    const EmbeddedFile* module = find_embedded_file("/hearth-ui.wasm");
    ASSERT_TRUE(page && loader && module);
    EXPECT_EQ(page, find_embedded_file("/index.html"));
    EXPECT_NE(page->bytes.find("<script src=\"hearth-ui.js\""), std::string_view::npos);
    EXPECT_NE(loader->bytes.find("hearth-ui.wasm"), std::string_view::npos);
    ASSERT_GE(module->bytes.size(), 8u);
    EXPECT_EQ(module->bytes.substr(0, 4), std::string_view("\0asm", 4));
    EXPECT_EQ(find_embedded_file("/missing.js"), nullptr);
    EXPECT_NE(page->etag, loader->etag);
    EXPECT_EQ(page->etag.front(), '"');
}

}  // namespace
}  // namespace hearth::webui
