// `hearth say` from the command line: files, formats by extension, stdout, voice listing
// and errors.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "support/run_command.h"
#include "support/shared_data.h"

namespace {

using hearth::test::hearth_binary;
using hearth::test::run_command;
using hearth::test::scratch_dir;
using hearth::test::shared_path;

std::vector<uint8_t> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t u32le(const std::vector<uint8_t>& v, size_t at) {
    return v[at] | (v[at + 1] << 8) | (v[at + 2] << 16) | (static_cast<uint32_t>(v[at + 3]) << 24);
}

TEST(SayCli, WritesFilesInTheFormatOfTheExtension) {
    const auto dir = scratch_dir("say-cli");
    auto r = run_command(hearth_binary() + " say \"Hello there. Second sentence.\" -o " + (dir / "a.wav").string() +
                         " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("first audio after"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("RTF"), std::string::npos) << r.out;
    const auto wav = read_file(dir / "a.wav");
    ASSERT_GT(wav.size(), 44u + 22050u);
    EXPECT_EQ(std::memcmp(wav.data(), "RIFF", 4), 0);
    EXPECT_EQ(u32le(wav, 4), wav.size() - 8);   // sizes filled in after streaming
    EXPECT_EQ(u32le(wav, 40), wav.size() - 44);
    EXPECT_EQ(u32le(wav, 24), 22050u);

    r = run_command(hearth_binary() + " say -q \"Hello.\" -o " + (dir / "b.mp3").string() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_TRUE(r.out.empty()) << r.out;  // -q: no timings
    const auto mp3 = read_file(dir / "b.mp3");
    ASSERT_GT(mp3.size(), 2u);
    EXPECT_EQ(mp3[0], 0xFF);
    EXPECT_EQ(mp3[1] & 0xE0, 0xE0);

    r = run_command(hearth_binary() + " say -q \"Hello.\" --format opus -o " + (dir / "c.bin").string());
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(std::memcmp(read_file(dir / "c.bin").data(), "OggS", 4), 0);

    // A FLAC file gets its length; the timings report the audio duration for any format.
    r = run_command(hearth_binary() + " say \"Hello there.\" -o " + (dir / "d.flac").string() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("s of audio, RTF"), std::string::npos) << r.out;
    const auto flac = read_file(dir / "d.flac");
    ASSERT_GT(flac.size(), 42u);
    EXPECT_EQ(std::memcmp(flac.data(), "fLaC", 4), 0);
    const uint64_t total = (uint64_t{flac[21] & 0x0Fu} << 32) | (uint64_t{flac[22]} << 24) | (flac[23] << 16) |
                           (flac[24] << 8) | flac[25];
    EXPECT_GT(total, 11025u);  // more than half a second at 22050 Hz
    EXPECT_LT(total, 22050u * 3);
    EXPECT_EQ(flac[21] >> 4, 0x0F);  // the low 4 bits of bits-per-sample - 1 (15) are intact
}

TEST(SayCli, StreamsToStdoutWhenNotATerminal) {
    // popen gives the command a pipe as stdout: the streaming wav goes there.
    auto r = run_command(hearth_binary() + " say -q \"Hi there.\"");
    ASSERT_EQ(r.exit_code, 0);
    ASSERT_GT(r.out.size(), 44u);
    EXPECT_EQ(r.out.compare(0, 4, "RIFF"), 0);
    EXPECT_EQ(r.out.compare(40, 4, "\xFF\xFF\xFF\xFF"), 0);  // unknown size: it was streamed
    auto from_stdin = run_command("echo 'Hi there.' | " + hearth_binary() + " say -q - --format pcm");
    ASSERT_EQ(from_stdin.exit_code, 0);
    EXPECT_GT(from_stdin.out.size(), 22050u);
    r = run_command(hearth_binary() + " say -q \"Hi there.\" --format pcm");
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.size() % 2, 0u);
    EXPECT_NE(r.out.compare(0, 4, "RIFF"), 0);
}

TEST(SayCli, PiperVoicesAndListing) {
    HEARTH_REQUIRE_SHARED("data/tts/piper1-gpl-test-voice");
    const std::string voices = shared_path("data/tts/piper1-gpl-test-voice");
    auto r = run_command(hearth_binary() + " say --list-voices --voices-dir " + voices);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("test_voice"), std::string::npos);
    EXPECT_NE(r.out.find("(default)"), std::string::npos);
    EXPECT_NE(r.out.find("builtin:en-us"), std::string::npos);

    // A model path works as --voice; each sentence is one second plus 0.2 s of silence.
    r = run_command(hearth_binary() + " say -q \"One. Two.\" --format pcm --voice " + voices + "/test_voice.onnx");
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.size(), 2u * 2u * (22050u + 4410u));
}

TEST(SayCli, PrintsPhonemesPerSentence) {
    auto r = run_command(hearth_binary() + " say --phonemes \"Hello, world. How are you?\"");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "həlˈoʊ, wˈɜːld.\nhˈaʊ ɑːɹ juː?\n");
}

TEST(SayCli, ErrorsExitNonZeroWithAMessage) {
    auto r = run_command(hearth_binary() + " say \"Hi\" --voice nobody -o /dev/null 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("unknown voice 'nobody'"), std::string::npos) << r.out;
    r = run_command(hearth_binary() + " say \"Hi\" --format ogg -o /dev/null 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("unknown format"), std::string::npos) << r.out;
    r = run_command(hearth_binary() + " say -o /dev/null 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    r = run_command(hearth_binary() + " say \"Hi\" --speed 9 -o /dev/null 2>&1");
    EXPECT_NE(r.exit_code, 0);
}

}  // namespace
