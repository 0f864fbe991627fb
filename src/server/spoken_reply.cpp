// The synthesis side of spoken chat replies (see chat_audio.h): text in from the
// connection's strand, sentences spoken on the speech threads, audio pieces back.
#include "server/spoken_reply.h"

#include <atomic>
#include <deque>
#include <mutex>

#include <boost/asio/post.hpp>

#include "tts/audio_encoder.h"
#include "tts/sentence_splitter.h"

namespace hearth::server {

namespace {

// Long clauses end at a comma past this many bytes: about three seconds of speech, so
// the first audio of a long opening sentence is not held back for its whole length.
constexpr size_t kClauseBytes = 120;

class TtsSpokenReply final : public SpokenReply, public std::enable_shared_from_this<TtsSpokenReply> {
public:
    TtsSpokenReply(std::unique_ptr<tts::SpeechSession> session, tts::AudioFormat format, asio::any_io_executor synth,
                   const std::atomic<bool>* stopping, bool starts_in_think)
        : session_(std::move(session)),
          format_(format),
          synth_(std::move(synth)),
          stopping_(stopping),
          splitter_({.markdown = true, .starts_in_think = starts_in_think, .clause_bytes = kClauseBytes}) {}

    void set_wake(std::function<void()> wake) override {
        std::lock_guard lock(mutex_);
        wake_ = std::move(wake);
    }

    void add_text(std::string_view text) override { enqueue(splitter_.push(text), false); }

    void end_text() override { enqueue(splitter_.finish(), true); }

    void cancel() override { cancelled_ = true; }

    void take(std::vector<Piece>& out, bool& done, std::optional<std::string>& error) override {
        std::lock_guard lock(mutex_);
        for (auto& p : pieces_) out.push_back(std::move(p));
        pieces_.clear();
        done = done_;
        error = error_;
    }

    double seconds() const override {
        std::lock_guard lock(mutex_);
        return stats_.seconds();
    }
    int64_t frames() const override {
        std::lock_guard lock(mutex_);
        return stats_.frames();
    }

    void complete_file(std::string& bytes) const override {
        std::span<uint8_t> view(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size());
        if (format_ == tts::AudioFormat::Wav) tts::set_wav_sizes(view, bytes.size());
        std::lock_guard lock(mutex_);
        if (format_ == tts::AudioFormat::Flac) tts::set_flac_total_samples(view, stats_.samples);
    }

private:
    bool stopped() const { return cancelled_.load() || stopping_->load(); }

    // Called on the handler's strand: queues sentences and starts the synthesis task if
    // none runs (one at a time, so that sentences are spoken in order).
    void enqueue(std::vector<std::string> sentences, bool last) {
        std::lock_guard lock(mutex_);
        if (text_ended_) return;
        for (auto& s : sentences) todo_.push_back(std::move(s));
        text_ended_ = last;
        if (running_ || (todo_.empty() && !last)) return;
        running_ = true;
        asio::post(synth_, [self = shared_from_this()] { self->run(); });
    }

    // On a synthesis thread: speaks the next queued sentence, then posts itself again if
    // more are queued, so that replies sharing the pool take turns sentence by sentence.
    void run() {
        std::string sentence;
        bool close = false;
        bool idle = false;
        bool stopped_now = false;
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex_);
            wake = wake_;
            if (stopped() && !done_) {
                done_ = true;
                error_ = "speech synthesis was stopped";
                stopped_now = true;
            }
            idle = done_ || (todo_.empty() && !text_ended_);
            if (idle) {
                running_ = false;
            } else if (todo_.empty()) {
                close = true;
            } else {
                sentence = std::move(todo_.front());
                todo_.pop_front();
            }
        }
        if (idle) {
            if (stopped_now && wake) wake();  // whoever still waits learns it is over
            return;
        }
        Result<void> r = close ? session_->finish([&](std::span<const uint8_t> b) { return deliver(b, {}); })
                               : speak(sentence);
        bool again = false;
        {
            std::lock_guard lock(mutex_);
            stats_ = session_->stats();
            if (!r) {
                done_ = true;
                error_ = r.error().message;
            } else if (close) {
                done_ = true;
            }
            again = !done_ && (!todo_.empty() || text_ended_);
            running_ = again;
        }
        if (wake && (close || !r)) wake();
        if (again) asio::post(synth_, [self = shared_from_this()] { self->run(); });
    }

    Result<void> speak(const std::string& sentence) {
        // The transcript joins sentences with a space, so that the pieces concatenate to
        // the spoken text.
        std::string transcript = spoke_any_ ? " " + sentence : sentence;
        spoke_any_ = true;
        auto r = session_->speak(sentence, [&](std::span<const uint8_t> b) {
            return deliver(b, std::exchange(transcript, {}));
        });
        // The resampler may hold a short sentence's audio back until the next one: its
        // words still belong to the transcript here.
        if (r && !transcript.empty()) deliver({}, std::move(transcript));
        return r;
    }

    bool deliver(std::span<const uint8_t> bytes, std::string transcript) {
        if (stopped()) return false;
        std::function<void()> wake;
        {
            std::lock_guard lock(mutex_);
            pieces_.push_back({std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), std::move(transcript)});
            stats_ = session_->stats();
            wake = wake_;
        }
        if (wake) wake();
        return true;
    }

    std::unique_ptr<tts::SpeechSession> session_;  // used by the running task only
    const tts::AudioFormat format_;
    asio::any_io_executor synth_;
    const std::atomic<bool>* stopping_;
    tts::SentenceSplitter splitter_;  // the handler's strand only
    std::atomic<bool> cancelled_{false};
    bool spoke_any_ = false;          // the running task only

    mutable std::mutex mutex_;
    std::function<void()> wake_;
    std::deque<std::string> todo_;
    bool text_ended_ = false;
    bool running_ = false;
    std::vector<Piece> pieces_;
    bool done_ = false;
    std::optional<std::string> error_;
    tts::SpeechStats stats_;
};

}  // namespace

std::shared_ptr<SpokenReply> make_spoken_reply(std::unique_ptr<tts::SpeechSession> session, tts::AudioFormat format,
                                               asio::any_io_executor synth, const std::atomic<bool>* stopping,
                                               bool starts_in_think) {
    return std::make_shared<TtsSpokenReply>(std::move(session), format, std::move(synth), stopping, starts_in_think);
}

}  // namespace hearth::server
