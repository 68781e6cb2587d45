#include <array>

#include <fmt/format.h>
#include <zlib.h>

#include <distill/core/error.hpp>
#include <distill/core/gzip.hpp>

namespace distill::core {

std::string gunzip(std::string_view data, std::string_view origin) {
    z_stream stream{};
    // 16 + MAX_WBITS: a gzip header, not a zlib one.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        throw Error(fmt::format("{}: zlib: cannot start inflating", origin));
    }
    std::string out;
    std::array<char, 64U << 10U> buffer{};
    // zlib's API is not const-correct; it does not write to the input.
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    int status = Z_OK;
    while (status != Z_STREAM_END || stream.avail_in > 0) {
        if (status == Z_STREAM_END) {
            inflateReset(&stream); // the next member
        }
        stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
        stream.avail_out = static_cast<uInt>(buffer.size());
        status = inflate(&stream, Z_NO_FLUSH);
        if (status != Z_OK && status != Z_STREAM_END) {
            const std::string why = stream.msg != nullptr ? stream.msg : "corrupt data";
            inflateEnd(&stream);
            throw Error(fmt::format("{}: not valid gzip data: {}", origin, why));
        }
        out.append(buffer.data(), buffer.size() - stream.avail_out);
        if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            inflateEnd(&stream);
            throw Error(fmt::format("{}: gzip data ends early", origin));
        }
    }
    inflateEnd(&stream);
    return out;
}

namespace {
constexpr std::size_t k_input_chunk = 64U << 10U;
} // namespace

struct GzipMembers::Stream {
    z_stream z{};
    bool ready = false;
    ~Stream() {
        if (ready) {
            inflateEnd(&z);
        }
    }
};

GzipMembers::GzipMembers(Source source, std::string origin, std::size_t max_members)
    : m_source(std::move(source))
    , m_origin(std::move(origin))
    , m_max_members(max_members)
    , m_stream(std::make_unique<Stream>())
    , m_input(k_input_chunk) {
    // 16 + MAX_WBITS: gzip headers and trailers, one member per inflateReset.
    if (inflateInit2(&m_stream->z, 16 + MAX_WBITS) != Z_OK) {
        throw Error(fmt::format("{}: zlib: cannot start inflating", m_origin));
    }
    m_stream->ready = true;
}

GzipMembers::~GzipMembers() = default;

bool GzipMembers::fill() {
    auto& z = m_stream->z;
    if (z.avail_in > 0) {
        return true;
    }
    if (m_source_done) {
        return false;
    }
    const std::size_t got = m_source(std::span(m_input));
    if (got == 0) {
        m_source_done = true;
        return false;
    }
    z.next_in = reinterpret_cast<Bytef*>(m_input.data());
    z.avail_in = static_cast<uInt>(got);
    return true;
}

bool GzipMembers::next_member(std::uint64_t max_unread) {
    if (!m_ended) {
        std::array<char, 16U << 10U> scratch{};
        std::uint64_t unread = 0;
        for (std::size_t got = 0; (got = read(std::span(scratch))) != 0;) {
            unread += got;
            if (unread > max_unread) {
                throw Error(fmt::format("{}: gzip member {} holds more than {} bytes past what "
                                        "was read of it",
                                        m_origin, m_member, max_unread));
            }
        }
    }
    m_hashers.clear();
    if (!fill()) {
        return false;
    }
    if (m_member >= m_max_members) {
        throw Error(fmt::format("{}: more than {} gzip members", m_origin, m_max_members));
    }
    if (inflateReset(&m_stream->z) != Z_OK) {
        throw Error(fmt::format("{}: zlib: cannot start inflating", m_origin));
    }
    ++m_member;
    m_ended = false;
    m_start = m_position;
    return true;
}

std::size_t GzipMembers::read(std::span<char> buffer) {
    auto& z = m_stream->z;
    while (!m_ended && !buffer.empty()) {
        if (!fill()) {
            throw Error(fmt::format("{}: gzip member {} ends early", m_origin, m_member));
        }
        z.next_out = reinterpret_cast<Bytef*>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        const Bytef* before = z.next_in;
        const int status = inflate(&z, Z_NO_FLUSH);
        const auto consumed = static_cast<std::size_t>(z.next_in - before);
        const auto raw = std::as_bytes(std::span(before, consumed));
        for (Hasher* hasher : m_hashers) {
            hasher->update(raw);
        }
        m_position += consumed;
        // Z_BUF_ERROR with input left would mean no progress at all; without input, the next
        // turn of the loop fetches more (or finds the stream cut short).
        if (status == Z_STREAM_END) {
            m_ended = true;
        } else if (status != Z_OK && !(status == Z_BUF_ERROR && z.avail_in == 0)) {
            throw Error(fmt::format("{}: gzip member {} is not valid gzip data: {}", m_origin,
                                    m_member, z.msg != nullptr ? z.msg : "corrupt data"));
        }
        if (const std::size_t produced = buffer.size() - z.avail_out; produced > 0) {
            return produced;
        }
    }
    return 0;
}

void GzipMembers::hash_raw(Hasher& hasher) {
    m_hashers.push_back(&hasher);
}

} // namespace distill::core
