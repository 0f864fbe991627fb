// The safetensors reader and writer: round trips, model folders with and without an
// index, and malformed input, which must give a precise error, never a crash. The
// hand-made files are also written to build/test-scratch/safetensors-corpus as seeds
// for fuzz_safetensors.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "convert/safetensors.h"
#include "support/shared_data.h"

namespace hearth::convert {
namespace {

namespace fs = std::filesystem;

// An 8-byte length field claiming `header_len`, the header text, then `data_bytes` zeros.
std::vector<uint8_t> raw_file(uint64_t header_len, std::string_view header, size_t data_bytes = 0) {
    std::vector<uint8_t> bytes(8);
    std::memcpy(bytes.data(), &header_len, 8);
    bytes.insert(bytes.end(), header.begin(), header.end());
    bytes.resize(bytes.size() + data_bytes, 0);
    return bytes;
}

std::vector<uint8_t> file_with(std::string_view header, size_t data_bytes = 0) {
    return raw_file(header.size(), header, data_bytes);
}

std::vector<uint8_t> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << path;
}

// A tensor whose bytes differ by name and position, so a mix-up shows.
TensorToWrite patterned(const std::string& name, Dtype dtype, std::vector<int64_t> shape) {
    TensorToWrite t{name, dtype, std::move(shape), {}};
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    t.bytes.resize(static_cast<size_t>(n) * dtype_size(dtype));
    for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(i * 37 + name.size() * 11 + 5);
    return t;
}

void expect_same(const TensorView& view, const TensorToWrite& written) {
    EXPECT_EQ(view.name, written.name);
    EXPECT_EQ(view.dtype, written.dtype) << view.name;
    EXPECT_EQ(view.shape, written.shape) << view.name;
    EXPECT_EQ(std::vector<uint8_t>(view.bytes.begin(), view.bytes.end()), written.bytes) << view.name;
}

TEST(Safetensors, DtypeNamesAndSizes) {
    const std::vector<std::tuple<Dtype, std::string_view, size_t>> expected = {
        {Dtype::F64, "F64", 8},  {Dtype::F32, "F32", 4},   {Dtype::F16, "F16", 2},         {Dtype::BF16, "BF16", 2},
        {Dtype::I64, "I64", 8},  {Dtype::I32, "I32", 4},   {Dtype::I16, "I16", 2},         {Dtype::I8, "I8", 1},
        {Dtype::U8, "U8", 1},    {Dtype::Bool, "BOOL", 1}, {Dtype::F8E4M3, "F8_E4M3", 1}, {Dtype::F8E5M2, "F8_E5M2", 1},
    };
    for (const auto& [dtype, name, size] : expected) {
        EXPECT_EQ(dtype_name(dtype), name);
        EXPECT_EQ(dtype_size(dtype), size) << name;
    }
}

std::vector<TensorToWrite> mixed_tensors() {
    return {
        patterned("model.embed_tokens.weight", Dtype::BF16, {5, 3}),
        patterned("b.scalar", Dtype::F32, {}),
        patterned("a.empty", Dtype::F16, {0, 4}),
        patterned("c.f64", Dtype::F64, {2, 1, 3}),
        patterned("d.i64", Dtype::I64, {3}),
        patterned("e.i32", Dtype::I32, {2, 2}),
        patterned("f.i16", Dtype::I16, {3}),
        patterned("g.i8", Dtype::I8, {7}),
        patterned("h.u8", Dtype::U8, {1, 1, 1, 1, 1, 1, 1, 9}),
        patterned("i.bool", Dtype::Bool, {4}),
        patterned("j.f8e4m3", Dtype::F8E4M3, {2, 3}),
        patterned("k.f8e5m2", Dtype::F8E5M2, {5}),
    };
}

TEST(Safetensors, RoundTripKeepsBytesOrderAndMetadata) {
    const auto path = test::scratch_dir("safetensors_roundtrip") / "model.safetensors";
    const auto tensors = mixed_tensors();
    const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "héllo \"quoted\""}};
    ASSERT_TRUE(write_safetensors(path.string(), tensors, metadata).ok());
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

    auto file = SafetensorsFile::open(path.string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_EQ(file->tensors().size(), tensors.size());
    // The writer lays tensors out in the given order; the empty one shares its offset
    // with the next and sorts first by size.
    for (size_t i = 0; i < tensors.size(); ++i) expect_same(file->tensors()[i], tensors[i]);
    EXPECT_EQ(file->metadata(), metadata);

    const TensorView* scalar = file->find("b.scalar");
    ASSERT_NE(scalar, nullptr);
    EXPECT_EQ(scalar->elements(), 1);
    EXPECT_EQ(file->find("a.empty")->elements(), 0);
    EXPECT_EQ(file->find("h.u8")->elements(), 9);
    EXPECT_EQ(file->find("missing"), nullptr);
    EXPECT_EQ(file->find("b.scala"), nullptr);
}

TEST(Safetensors, WriterPadsTheHeaderLikeTheReference) {
    const auto path = test::scratch_dir("safetensors_padding") / "one.safetensors";
    ASSERT_TRUE(write_safetensors(path.string(), {patterned("w", Dtype::F32, {3})}).ok());
    const auto bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 8u);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    EXPECT_EQ(header_len % 8, 0u);
    EXPECT_EQ(bytes.size(), 8 + header_len + 12);
    const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<ptrdiff_t>(header_len));
    EXPECT_EQ(header.substr(0, header.find_last_not_of(' ') + 1),
              R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})");

    auto parsed = SafetensorsFile::parse(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->tensors()[0].bytes.data(), bytes.data() + 8 + header_len);
}

TEST(Safetensors, WriterRefusesInconsistentTensors) {
    const auto dir = test::scratch_dir("safetensors_writer_errors");
    auto short_bytes = patterned("w", Dtype::F32, {4});
    short_bytes.bytes.pop_back();
    auto r = write_safetensors((dir / "a.safetensors").string(), {short_bytes});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("tensor 'w'"), std::string::npos) << r.error().message;

    r = write_safetensors((dir / "b.safetensors").string(),
                          {patterned("w", Dtype::U8, {1}), patterned("w", Dtype::U8, {2})});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("repeated"), std::string::npos) << r.error().message;
    EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Safetensors, AcceptsEdgeCasesTheFormatAllows) {
    const auto empty = file_with("{}");
    auto f = SafetensorsFile::parse(empty);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_TRUE(f->tensors().empty());
    EXPECT_TRUE(f->metadata().empty());

    // Padding, metadata alone, gaps between tensors, empty tensors at any offset, and
    // trailing bytes after the last tensor.
    const auto mixed = file_with(R"({"__metadata__":{"format":"pt"},)"
                                 R"("late":{"dtype":"U8","shape":[2],"data_offsets":[10,12]},)"
                                 R"("early":{"dtype":"I16","shape":[2],"data_offsets":[0,4]},)"
                                 R"("nothing":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}}      )",
                                 16);
    f = SafetensorsFile::parse(mixed);
    ASSERT_TRUE(f.ok()) << f.error().message;
    ASSERT_EQ(f->tensors().size(), 3u);
    EXPECT_EQ(f->tensors()[0].name, "early");
    EXPECT_EQ(f->tensors()[1].name, "nothing");
    EXPECT_EQ(f->tensors()[2].name, "late");
    EXPECT_EQ(f->metadata().at("format"), "pt");
}

struct CorruptCase {
    std::string name;
    std::vector<uint8_t> bytes;
    std::string expected;  // substring of the error message
};

// One tensor entry around the given JSON members, with `data` bytes of data.
std::vector<uint8_t> entry(std::string_view members, size_t data = 64) {
    return file_with(std::string(R"({"w":{)") + std::string(members) + "}}", data);
}

std::vector<CorruptCase> corrupt_cases() {
    const std::string f32x4 = R"("dtype":"F32","shape":[4],)";
    std::vector<CorruptCase> c;
    c.push_back({"empty", {}, "file too small for a safetensors header (0 bytes)"});
    c.push_back({"short", {1, 0, 0}, "file too small"});
    c.push_back({"header_past_end", raw_file(1000, "{}"), "header length 1000 is larger than the 2 bytes"});
    c.push_back({"header_huge", raw_file(~0ull, "{}"), "is larger than the 2 bytes"});
    c.push_back({"header_len0", raw_file(0, "{}"), "header length 0 is too small"});
    c.push_back({"header_len1", raw_file(1, "{}"), "header length 1 is too small"});
    c.push_back({"not_json", file_with("this is no JSON"), "header (15 bytes) is not valid JSON"});
    c.push_back({"truncated_json", file_with(R"({"w":{"dtype")"), "is not valid JSON"});
    c.push_back({"bad_utf8", file_with("{\"\xff\":{}}"), "is not valid JSON"});
    c.push_back({"header_array", file_with("[1, 2]"), "header is an array, not a JSON object"});
    c.push_back({"header_number", file_with("42"), "header is 42, not a JSON object"});
    c.push_back({"too_deep", file_with(R"({"w":{"shape":[[4]]}})"), "nests JSON 4 levels deep"});
    c.push_back({"entry_not_object", file_with(R"({"w":[1]})"), "tensor 'w': entry is an array, not an object"});
    c.push_back({"unknown_key", entry(f32x4 + R"("data_offsets":[0,16],"stride":[1])"),
                 "tensor 'w': unknown key 'stride'"});
    c.push_back({"missing_offsets", entry(R"("dtype":"F32","shape":[4])"), "tensor 'w': missing 'data_offsets'"});
    c.push_back({"missing_dtype", entry(R"("shape":[4],"data_offsets":[0,16])"), "tensor 'w': missing 'dtype'"});
    c.push_back({"missing_shape", entry(R"("dtype":"F32","data_offsets":[0,16])"), "tensor 'w': missing 'shape'"});
    c.push_back({"unknown_dtype", entry(R"("dtype":"Q4_K","shape":[4],"data_offsets":[0,16])"),
                 "tensor 'w': unsupported dtype \"Q4_K\""});
    c.push_back({"lowercase_dtype", entry(R"("dtype":"f32","shape":[4],"data_offsets":[0,16])"), "unsupported dtype"});
    c.push_back({"dtype_number", entry(R"("dtype":4,"shape":[4],"data_offsets":[0,16])"),
                 "tensor 'w': dtype is 4, not a string"});
    c.push_back({"shape_not_array", entry(R"("dtype":"F32","shape":4,"data_offsets":[0,16])"),
                 "tensor 'w': shape is 4, not an array"});
    c.push_back({"negative_dim", entry(R"("dtype":"F32","shape":[-1,4],"data_offsets":[0,16])"),
                 "tensor 'w': shape dimension 0 is -1, not a non-negative integer"});
    c.push_back({"fractional_dim", entry(R"("dtype":"F32","shape":[4,2.5],"data_offsets":[0,16])"),
                 "shape dimension 1 is 2.5"});
    c.push_back({"nine_dims", entry(R"("dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1])"),
                 "tensor 'w': shape has 9 dimensions, at most 8 allowed"});
    c.push_back({"element_overflow",
                 entry(R"("dtype":"U8","shape":[1099511627776,1099511627776],"data_offsets":[0,16])"),
                 "tensor 'w': shape [1099511627776, 1099511627776] overflows"});
    c.push_back({"byte_overflow", entry(R"("dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16])"),
                 "overflows a 64-bit byte count"});
    c.push_back({"offsets_past_end", entry(f32x4 + R"("data_offsets":[60,76])"),
                 "tensor 'w': data_offsets [60, 76] extend past the end of the 64-byte data area"});
    c.push_back({"offsets_huge", entry(f32x4 + R"("data_offsets":[18446744073709551600,18446744073709551615])"),
                 "data_offsets must be two non-negative integers"});
    c.push_back({"offsets_reversed", entry(f32x4 + R"("data_offsets":[16,0])"), "data_offsets [16, 0] end before"});
    c.push_back({"offsets_negative", entry(f32x4 + R"("data_offsets":[-16,0])"),
                 "tensor 'w': data_offsets must be two non-negative integers [begin, end], not [-16, 0]"});
    c.push_back({"offsets_three", entry(f32x4 + R"("data_offsets":[0,8,16])"), "not an array of 3 values"});
    c.push_back({"offsets_float", entry(f32x4 + R"("data_offsets":[0,16.0])"), "not [0, 16.0]"});
    c.push_back({"size_mismatch", entry(f32x4 + R"("data_offsets":[0,12])"),
                 "tensor 'w': data_offsets [0, 12] hold 12 bytes, but F32 of shape [4] needs 16"});
    c.push_back({"overlap",
                 file_with(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                           32),
                 "tensors 'a' [0, 16] and 'b' [8, 24] overlap"});
    c.push_back({"same_range",
                 file_with(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},)"
                           R"("b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}})",
                           8),
                 "overlap"});
    c.push_back({"metadata_number", file_with(R"({"__metadata__":{"format":"pt","epoch":3}})"),
                 "__metadata__ value of 'epoch' is 3, not a string"});
    c.push_back({"metadata_array", file_with(R"({"__metadata__":["pt"]})"), "__metadata__ is an array"});
    return c;
}

TEST(SafetensorsCorrupt, EachCaseGivesItsError) {
    for (const auto& c : corrupt_cases()) {
        SCOPED_TRACE(c.name);
        auto f = SafetensorsFile::parse(c.bytes);
        ASSERT_FALSE(f.ok());
        EXPECT_NE(f.error().message.find(c.expected), std::string::npos) << "message: " << f.error().message;
    }
}

TEST(SafetensorsCorrupt, HeaderOverTheLimit) {
    constexpr uint64_t kLimit = uint64_t{100} << 20;
    auto bytes = raw_file(kLimit + 1, "{}");
    bytes.resize(8 + kLimit + 1, ' ');
    auto f = SafetensorsFile::parse(bytes);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("exceeds the limit"), std::string::npos) << f.error().message;
}

TEST(SafetensorsCorrupt, OpenNamesTheFile) {
    const auto path = (test::scratch_dir("safetensors_open_error") / "bad.safetensors").string();
    const auto bytes = entry(R"("dtype":"Q4_K","shape":[4],"data_offsets":[0,16])");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    auto f = SafetensorsFile::open(path);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error().message.rfind(path + ": tensor 'w': unsupported dtype", 0), 0u) << f.error().message;

    auto missing = SafetensorsFile::open(path + ".absent");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find(".absent"), std::string::npos);
}

TEST(SafetensorsCorrupt, WritesFuzzSeedCorpus) {
    const auto dir = test::binary_dir() / "test-scratch" / "safetensors-corpus";
    fs::create_directories(dir);
    for (const auto& c : corrupt_cases()) {
        std::ofstream out(dir / (c.name + ".safetensors"), std::ios::binary);
        out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
        ASSERT_TRUE(out.good());
    }
    const auto valid = (dir / "valid_mixed.safetensors").string();
    ASSERT_TRUE(write_safetensors(valid, mixed_tensors(), {{"format", "pt"}}).ok());
    ASSERT_TRUE(write_safetensors((dir / "valid_empty.safetensors").string(), {}).ok());
    EXPECT_TRUE(SafetensorsFile::open(valid).ok());
}

// --- model folders ---

const std::vector<TensorToWrite> kShard1 = {patterned("model.layers.0.w", Dtype::BF16, {4, 2}),
                                            patterned("model.embed_tokens.weight", Dtype::BF16, {8, 2})};
const std::vector<TensorToWrite> kShard2 = {patterned("model.norm.weight", Dtype::F32, {2}),
                                            patterned("lm_head.weight", Dtype::F16, {8, 2})};

void write_shards(const fs::path& dir) {
    ASSERT_TRUE(write_safetensors((dir / "model-00001-of-00002.safetensors").string(), kShard1).ok());
    ASSERT_TRUE(write_safetensors((dir / "model-00002-of-00002.safetensors").string(), kShard2).ok());
}

// An index mapping each name to a shard file name.
void write_index(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& map) {
    std::string text = R"({"metadata": {"total_size": 128}, "weight_map": {)";
    for (size_t i = 0; i < map.size(); ++i)
        text += (i ? ", " : "") + ("\"" + map[i].first + "\": \"" + map[i].second + "\"");
    write_text(dir / "model.safetensors.index.json", text + "}}");
}

std::vector<std::pair<std::string, std::string>> full_index() {
    std::vector<std::pair<std::string, std::string>> map;
    for (const auto& t : kShard1) map.emplace_back(t.name, "model-00001-of-00002.safetensors");
    for (const auto& t : kShard2) map.emplace_back(t.name, "model-00002-of-00002.safetensors");
    return map;
}

std::string open_error(const fs::path& dir) {
    auto model = SafetensorsModel::open(dir.string());
    return model.ok() ? "(opened)" : model.error().message;
}

TEST(SafetensorsModel, ShardedFolderWithIndex) {
    const auto dir = test::scratch_dir("safetensors_sharded");
    write_shards(dir);
    write_index(dir, full_index());
    // A file the index does not name (Mistral repositories ship consolidated.safetensors
    // beside the shards) is not part of the model.
    ASSERT_TRUE(write_safetensors((dir / "consolidated.safetensors").string(), kShard1).ok());

    auto model = SafetensorsModel::open(dir.string());
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_EQ(model->size(), 4u);
    std::vector<std::string> names;
    for (const TensorView* t : model->tensors()) names.push_back(t->name);
    EXPECT_EQ(names, (std::vector<std::string>{"lm_head.weight", "model.embed_tokens.weight", "model.layers.0.w",
                                               "model.norm.weight"}));
    for (const auto& shard : {kShard1, kShard2}) {
        for (const auto& t : shard) {
            const TensorView* view = model->find(t.name);
            ASSERT_NE(view, nullptr) << t.name;
            expect_same(*view, t);
        }
    }
    EXPECT_EQ(model->find("model.layers.1.w"), nullptr);
}

TEST(SafetensorsModel, FolderWithoutIndexOpensEveryFile) {
    const auto dir = test::scratch_dir("safetensors_unindexed");
    ASSERT_TRUE(write_safetensors((dir / "b.safetensors").string(), kShard2).ok());
    ASSERT_TRUE(write_safetensors((dir / "a.safetensors").string(), kShard1).ok());
    ASSERT_TRUE(write_safetensors((dir / "c.safetensors").string(), {patterned("extra", Dtype::U8, {3})}).ok());
    write_text(dir / "config.json", "{}");

    auto model = SafetensorsModel::open(dir.string());
    ASSERT_TRUE(model.ok()) << model.error().message;
    EXPECT_EQ(model->size(), 5u);
    const auto tensors = model->tensors();
    ASSERT_EQ(tensors.size(), 5u);
    EXPECT_TRUE(std::is_sorted(tensors.begin(), tensors.end(),
                               [](const TensorView* a, const TensorView* b) { return a->name < b->name; }));
    expect_same(*model->find("extra"), patterned("extra", Dtype::U8, {3}));
    expect_same(*model->find("lm_head.weight"), kShard2[1]);

    // The model stays valid when moved: views point into the mappings, not the object.
    SafetensorsModel moved = std::move(model).value();
    expect_same(*moved.find("model.layers.0.w"), kShard1[0]);
}

TEST(SafetensorsModel, IndexPointingAtMissingShard) {
    const auto dir = test::scratch_dir("safetensors_missing_shard");
    write_shards(dir);
    auto map = full_index();
    map.back().second = "model-00003-of-00003.safetensors";
    write_index(dir, map);
    const std::string message = open_error(dir);
    EXPECT_NE(message.find("shard 'model-00003-of-00003.safetensors'"), std::string::npos) << message;
    EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST(SafetensorsModel, IndexListsTensorItsShardLacks) {
    const auto dir = test::scratch_dir("safetensors_missing_tensor");
    write_shards(dir);
    auto map = full_index();
    map.emplace_back("model.layers.1.w", "model-00001-of-00002.safetensors");
    write_index(dir, map);
    const std::string message = open_error(dir);
    EXPECT_NE(message.find("lists tensor 'model.layers.1.w' in shard 'model-00001-of-00002.safetensors', which does "
                           "not hold it"),
              std::string::npos)
        << message;

    // A tensor listed under the other shard than the one that holds it.
    map = full_index();
    map.front().second = "model-00002-of-00002.safetensors";
    write_index(dir, map);
    EXPECT_NE(open_error(dir).find("lists tensor 'model.layers.0.w'"), std::string::npos) << open_error(dir);
}

TEST(SafetensorsModel, DuplicateTensorAcrossShards) {
    const auto dir = test::scratch_dir("safetensors_duplicate");
    write_shards(dir);
    auto with_duplicate = kShard2;
    with_duplicate.push_back(kShard1[0]);
    ASSERT_TRUE(write_safetensors((dir / "model-00002-of-00002.safetensors").string(), with_duplicate).ok());
    write_index(dir, full_index());
    std::string message = open_error(dir);
    EXPECT_NE(message.find("tensor 'model.layers.0.w' is in both 'model-00001-of-00002.safetensors' and "
                           "'model-00002-of-00002.safetensors'"),
              std::string::npos)
        << message;

    fs::remove(dir / "model.safetensors.index.json");
    message = open_error(dir);
    EXPECT_NE(message.find("tensor 'model.layers.0.w' is in both"), std::string::npos) << message;
}

TEST(SafetensorsModel, ShardNameOutsideTheFolder) {
    const auto dir = test::scratch_dir("safetensors_escape");
    write_shards(dir);
    for (const std::string shard : {"../model-00001-of-00002.safetensors", "sub/x.safetensors", ""}) {
        auto map = full_index();
        map.front().second = shard;
        write_index(dir, map);
        const std::string message = open_error(dir);
        EXPECT_NE(message.find("which is not a file name in the model's folder"), std::string::npos) << message;
    }
}

TEST(SafetensorsModel, BadIndexAndFolders) {
    const auto dir = test::scratch_dir("safetensors_bad_folders");
    write_shards(dir);
    write_text(dir / "model.safetensors.index.json", R"({"metadata": {}})");
    EXPECT_NE(open_error(dir).find("no \"weight_map\" object"), std::string::npos) << open_error(dir);
    write_text(dir / "model.safetensors.index.json", R"({"weight_map": {"a": 1}})");
    EXPECT_NE(open_error(dir).find("weight_map entry of 'a' is 1"), std::string::npos) << open_error(dir);
    write_text(dir / "model.safetensors.index.json", "{ not json");
    EXPECT_NE(open_error(dir).find("not valid JSON"), std::string::npos) << open_error(dir);

    const auto pickles = test::scratch_dir("safetensors_pickles");
    write_text(pickles / "pytorch_model.bin", "PK");
    std::string message = open_error(pickles);
    EXPECT_NE(message.find("no .safetensors files"), std::string::npos) << message;
    EXPECT_NE(message.find(".bin"), std::string::npos) << message;

    message = open_error(pickles / "pytorch_model.bin");
    EXPECT_NE(message.find("is not a folder"), std::string::npos) << message;
}

TEST(SafetensorsModel, CorruptShardNamesItsFile) {
    const auto dir = test::scratch_dir("safetensors_corrupt_shard");
    write_shards(dir);
    write_text(dir / "model-00002-of-00002.safetensors", "garbage!garbage");
    write_index(dir, full_index());
    const std::string message = open_error(dir);
    EXPECT_NE(message.find("model-00002-of-00002.safetensors: header length"), std::string::npos) << message;
}

}  // namespace
}  // namespace hearth::convert
