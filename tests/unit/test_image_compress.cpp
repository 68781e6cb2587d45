// Layer compression: gzip and zstd give the same bytes for any thread count and any write
// sizes, and an independent reader reads them back.

#include <span>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/image/compress.hpp>

#include "support.hpp"

namespace distill::image {
namespace {

using test::decompress;
using test::sample;

std::string compress(Compression compression, int jobs, const std::string& input,
                     std::size_t piece = 100000) {
    std::string out;
    auto compressor = make_compressor(compression, jobs, [&](std::span<const std::byte> data) {
        out.append(reinterpret_cast<const char*>(data.data()), data.size());
    });
    for (std::size_t at = 0; at < input.size(); at += piece) {
        const auto part = std::string_view(input).substr(at, piece);
        compressor->write(std::as_bytes(std::span(part.data(), part.size())));
    }
    compressor->finish();
    return out;
}

TEST(ImageCompress, GzipIsTheSameForAnyThreadCountAndReadsBack) {
    const auto input = sample(5'500'000); // six members
    const auto one = compress(Compression::gzip, 1, input);
    EXPECT_EQ(compress(Compression::gzip, 2, input), one);
    EXPECT_EQ(compress(Compression::gzip, 4, input, 7777), one);
    EXPECT_LT(one.size(), input.size() / 3);
    EXPECT_EQ(decompress(one), input);
    EXPECT_EQ(static_cast<unsigned char>(one[0]), 0x1fU);
}

TEST(ImageCompress, EmptyInputIsStillValidGzip) {
    const test::ScratchDir scratch;
    const auto out = compress(Compression::gzip, 2, "");
    ASSERT_GE(out.size(), 18U);
    const auto file = scratch.path() / "empty.gz";
    core::write_file_atomic(file, out);
    const auto gunzip = core::run_process({"gzip", "-dc", file.string()});
    EXPECT_EQ(gunzip.exit_code, 0) << gunzip.err;
    EXPECT_EQ(gunzip.out, "");
}

TEST(ImageCompress, ZstdIsTheSameForAnyThreadCountAndReadsBack) {
    const auto input = sample(9'000'000); // more than one zstd job
    const auto one = compress(Compression::zstd, 1, input);
    EXPECT_EQ(compress(Compression::zstd, 2, input), one);
    EXPECT_EQ(compress(Compression::zstd, 4, input, 5000), one);
    EXPECT_EQ(decompress(one), input);
}

} // namespace
} // namespace distill::image
