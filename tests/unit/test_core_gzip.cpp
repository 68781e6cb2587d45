// gunzip: whole multi-member data, and clear errors for what is not gzip or is cut short.

#include <span>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <distill/core/error.hpp>
#include <distill/core/gzip.hpp>
#include <distill/image/compress.hpp>

namespace distill {
namespace {

TEST(CoreGzip, MultiMemberDataExpandsWhole) {
    // More than one member: distill's own layer compressor cuts every MiB.
    const std::string input(3U << 20U, 'x');
    std::string gz;
    auto compressor =
        image::make_compressor(image::Compression::gzip, 2, [&](std::span<const std::byte> data) {
            gz.append(reinterpret_cast<const char*>(data.data()), data.size());
        });
    compressor->write(std::as_bytes(std::span(input.data(), input.size())));
    compressor->finish();
    EXPECT_EQ(core::gunzip(gz, "test"), input);
    EXPECT_THROW((void)core::gunzip("not gzip", "test"), Error);
    EXPECT_THROW((void)core::gunzip(std::string_view(gz).substr(0, gz.size() / 2), "test"), Error);
}

} // namespace
} // namespace distill
