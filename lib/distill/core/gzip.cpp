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

} // namespace distill::core
