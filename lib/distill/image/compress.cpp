#include <condition_variable>
#include <deque>
#include <exception>
#include <libdeflate.h>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <zstd.h>

#include <distill/core/error.hpp>
#include <distill/image/compress.hpp>

namespace distill::image {
namespace {

/// Input bytes per gzip member. Fixed, so that the output does not depend on the thread count;
/// large enough that restarting the dictionary costs well under 1% of the ratio.
constexpr std::size_t k_gzip_piece = 1U << 20U;
constexpr int k_gzip_level = 6;
constexpr int k_zstd_level = 3;
constexpr int k_zstd_job_size = 4 << 20;

using Deflater = std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)>;

Deflater new_deflater() {
    Deflater deflater(libdeflate_alloc_compressor(k_gzip_level), &libdeflate_free_compressor);
    if (!deflater) {
        throw Error("libdeflate: cannot allocate a compressor");
    }
    return deflater;
}

std::vector<std::byte> gzip_member(libdeflate_compressor* deflater,
                                   const std::vector<std::byte>& input) {
    std::vector<std::byte> output(libdeflate_gzip_compress_bound(deflater, input.size()));
    const std::size_t size = libdeflate_gzip_compress(deflater, input.data(), input.size(),
                                                      output.data(), output.size());
    if (size == 0) {
        throw Error("libdeflate: compression failed");
    }
    output.resize(size);
    return output;
}

/// gzip members compressed by a pool of threads and delivered in input order.
class GzipCompressor final : public Compressor {
public:
    GzipCompressor(int jobs, ByteSink sink)
        : m_sink(std::move(sink))
        , m_max_pending(static_cast<std::size_t>(2 * std::max(jobs, 1))) {
        m_current.reserve(k_gzip_piece);
        if (jobs <= 1) {
            m_inline.emplace(new_deflater());
            return;
        }
        for (int i = 0; i < jobs; ++i) {
            m_workers.emplace_back([this] { work(); });
        }
    }

    ~GzipCompressor() override {
        {
            const std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_work_ready.notify_all();
        m_workers.clear(); // joins
    }

    GzipCompressor(const GzipCompressor&) = delete;
    GzipCompressor& operator=(const GzipCompressor&) = delete;

    void write(std::span<const std::byte> data) override {
        while (!data.empty()) {
            const auto take = std::min(data.size(), k_gzip_piece - m_current.size());
            m_current.insert(m_current.end(), data.begin(),
                             data.begin() + static_cast<std::ptrdiff_t>(take));
            data = data.subspan(take);
            if (m_current.size() == k_gzip_piece) {
                submit();
            }
        }
    }

    void finish() override {
        // An empty stream is still one (empty) gzip member.
        if (!m_current.empty() || !m_any) {
            submit();
        }
        std::unique_lock lock(m_mutex);
        while (!m_pending.empty()) {
            emit_ready(lock, true);
        }
    }

private:
    struct Piece {
        std::vector<std::byte> input;
        std::vector<std::byte> output;
        bool done = false;
    };

    void submit() {
        auto piece = std::make_shared<Piece>();
        piece->input.swap(m_current);
        m_current.reserve(k_gzip_piece);
        m_any = true;
        if (m_inline) {
            const auto member = gzip_member(m_inline->get(), piece->input);
            m_sink(member);
            return;
        }
        std::unique_lock lock(m_mutex);
        m_pending.push_back(piece);
        m_queue.push_back(piece);
        m_work_ready.notify_one();
        // Bounded memory: never more than a few pieces in flight.
        emit_ready(lock, m_pending.size() > m_max_pending);
    }

    /// Delivers finished pieces from the front; with `wait`, waits for the first one at least.
    void emit_ready(std::unique_lock<std::mutex>& lock, bool wait) {
        if (wait) {
            m_piece_done.wait(lock, [&] { return m_failure || m_pending.front()->done; });
        }
        if (m_failure) {
            std::rethrow_exception(m_failure);
        }
        while (!m_pending.empty() && m_pending.front()->done) {
            const auto piece = m_pending.front();
            m_pending.pop_front();
            lock.unlock();
            m_sink(piece->output);
            lock.lock();
        }
    }

    void work() {
        const Deflater deflater = new_deflater();
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_work_ready.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) {
                return;
            }
            const auto piece = m_queue.front();
            m_queue.pop_front();
            lock.unlock();
            try {
                auto output = gzip_member(deflater.get(), piece->input);
                lock.lock();
                piece->output = std::move(output);
                piece->input = {};
                piece->done = true;
            } catch (...) {
                lock.lock();
                m_failure = std::current_exception();
            }
            m_piece_done.notify_all();
        }
    }

    ByteSink m_sink;
    std::size_t m_max_pending;
    std::vector<std::byte> m_current;
    bool m_any = false;
    std::optional<Deflater> m_inline; ///< jobs <= 1: compress on the caller's thread

    std::mutex m_mutex;
    std::condition_variable m_work_ready;
    std::condition_variable m_piece_done;
    std::deque<std::shared_ptr<Piece>> m_pending; ///< submitted, in order, not yet delivered
    std::deque<std::shared_ptr<Piece>> m_queue;   ///< submitted, not yet taken by a worker
    bool m_stopping = false;
    std::exception_ptr m_failure;
    std::vector<std::jthread> m_workers;
};

void check_zstd(std::size_t result, const char* what) {
    if (ZSTD_isError(result) != 0U) {
        throw Error(fmt::format("zstd: {}: {}", what, ZSTD_getErrorName(result)));
    }
}

class ZstdCompressor final : public Compressor {
public:
    ZstdCompressor(int jobs, ByteSink sink)
        : m_context(ZSTD_createCCtx(), &ZSTD_freeCCtx)
        , m_sink(std::move(sink))
        , m_buffer(ZSTD_CStreamOutSize()) {
        if (!m_context) {
            throw Error("zstd: cannot allocate a compression context");
        }
        auto* context = m_context.get();
        check_zstd(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, k_zstd_level),
                   "setting the level");
        check_zstd(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enabling checksums");
        // Multi-threaded mode with a fixed job size gives the same bytes for any number of
        // workers (but not the same as single-threaded mode, which is therefore never used).
        check_zstd(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, std::max(jobs, 1)),
                   "enabling worker threads");
        check_zstd(ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, k_zstd_job_size),
                   "setting the job size");
    }

    void write(std::span<const std::byte> data) override {
        ZSTD_inBuffer input{data.data(), data.size(), 0};
        while (input.pos < input.size) {
            ZSTD_outBuffer output{m_buffer.data(), m_buffer.size(), 0};
            check_zstd(ZSTD_compressStream2(m_context.get(), &output, &input, ZSTD_e_continue),
                       "compressing");
            deliver(output);
        }
    }

    void finish() override {
        ZSTD_inBuffer input{nullptr, 0, 0};
        for (;;) {
            ZSTD_outBuffer output{m_buffer.data(), m_buffer.size(), 0};
            const std::size_t left =
                ZSTD_compressStream2(m_context.get(), &output, &input, ZSTD_e_end);
            check_zstd(left, "finishing");
            deliver(output);
            if (left == 0) {
                return;
            }
        }
    }

private:
    void deliver(const ZSTD_outBuffer& output) {
        if (output.pos > 0) {
            m_sink(std::span(m_buffer.data(), output.pos));
        }
    }

    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> m_context;
    ByteSink m_sink;
    std::vector<std::byte> m_buffer;
};

class PassThrough final : public Compressor {
public:
    explicit PassThrough(ByteSink sink)
        : m_sink(std::move(sink)) {}
    void write(std::span<const std::byte> data) override { m_sink(data); }
    void finish() override {}

private:
    ByteSink m_sink;
};

} // namespace

std::string to_string(Compression compression) {
    switch (compression) {
    case Compression::gzip:
        return "gzip";
    case Compression::zstd:
        return "zstd";
    case Compression::none:
        return "none";
    }
    return "?";
}

std::string layer_media_type(Compression compression) {
    switch (compression) {
    case Compression::gzip:
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    case Compression::zstd:
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    case Compression::none:
        return "application/vnd.oci.image.layer.v1.tar";
    }
    return {};
}

std::unique_ptr<Compressor> make_compressor(Compression compression, int jobs, ByteSink sink) {
    switch (compression) {
    case Compression::gzip:
        return std::make_unique<GzipCompressor>(jobs, std::move(sink));
    case Compression::zstd:
        return std::make_unique<ZstdCompressor>(jobs, std::move(sink));
    case Compression::none:
        return std::make_unique<PassThrough>(std::move(sink));
    }
    throw Error("unknown compression");
}

} // namespace distill::image
