#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace distill::image {

/// How the layer is compressed.
enum class Compression { gzip, zstd, none };

/// "gzip", "zstd", "none".
[[nodiscard]] std::string to_string(Compression compression);
/// The OCI media type of a layer compressed this way.
[[nodiscard]] std::string layer_media_type(Compression compression);

/// Where compressed bytes go, in order.
using ByteSink = std::function<void(std::span<const std::byte>)>;

/// A streaming compressor whose output depends only on its input, never on the number of
/// threads, the machine or the time: the layer digest must be reproducible.
class Compressor {
public:
    virtual ~Compressor() = default;
    /// Feeds bytes; compressed output reaches the sink as it is ready.
    virtual void write(std::span<const std::byte> data) = 0;
    /// Compresses what is left and delivers everything to the sink. Call once.
    virtual void finish() = 0;
};

/// A compressor for `compression` running on up to `jobs` threads.
/// gzip: the input is cut into fixed 1 MiB pieces, each compressed by libdeflate (level 6) into
/// its own gzip member, the members concatenated — one valid gzip file (RFC 1952 allows any
/// number of members) that every gzip reader expands in one go, compressed in parallel.
/// zstd: libzstd's multi-threaded mode with a fixed job size (level 3).
[[nodiscard]] std::unique_ptr<Compressor> make_compressor(Compression compression, int jobs,
                                                          ByteSink sink);

} // namespace distill::image
