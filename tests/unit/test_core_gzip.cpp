// gunzip: whole multi-member data, and clear errors for what is not gzip or is cut short.
// GzipMembers: the same member by member, streamed, with each member's compressed bytes.

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/gzip.hpp>
#include <distill/image/compress.hpp>

#include "apk_support.hpp"

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

/// A source that hands out `data` at most `chunk` bytes at a time.
core::GzipMembers::Source chunks(const std::string& data, std::size_t chunk) {
    return [&data, chunk, offset = std::size_t{0}](std::span<char> buffer) mutable {
        const std::size_t count = std::min({chunk, buffer.size(), data.size() - offset});
        std::copy_n(data.data() + offset, count, buffer.data());
        offset += count;
        return count;
    };
}

std::string read_member(core::GzipMembers& members, std::size_t chunk) {
    std::string out;
    std::vector<char> buffer(chunk);
    for (std::size_t got = 0; (got = members.read(std::span(buffer))) != 0;) {
        out.append(buffer.data(), got);
    }
    return out;
}

TEST(CoreGzip, MembersComeOneByOneWithTheirCompressedBytes) {
    const std::vector<std::string> texts{"first member\n", std::string(300000, 'y') + "end", ""};
    std::vector<std::string> gz;
    std::string file;
    for (const auto& text : texts) {
        gz.push_back(test::apk::gzip(text));
        file += gz.back();
    }
    // Small reads from the source and of the members cross every boundary at odd places.
    for (const std::size_t chunk : {std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20U}) {
        SCOPED_TRACE(chunk);
        core::GzipMembers members(chunks(file, chunk), "test.apk", 3);
        std::uint64_t start = 0;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            ASSERT_TRUE(members.next_member());
            EXPECT_EQ(members.member(), i + 1);
            EXPECT_EQ(members.member_start(), start);
            core::Hasher sha1(core::HashAlgorithm::sha1);
            members.hash_raw(sha1);
            EXPECT_EQ(read_member(members, chunk % 1000 + 1), texts[i]);
            EXPECT_TRUE(members.member_ended());
            start += gz[i].size();
            EXPECT_EQ(members.position(), start);
            core::Hasher expected(core::HashAlgorithm::sha1);
            expected.update(gz[i]);
            EXPECT_EQ(sha1.hex_digest(), expected.hex_digest());
        }
        EXPECT_FALSE(members.next_member());
    }
}

TEST(CoreGzip, MembersAreBoundedAndCheckedWhole) {
    const std::string file = test::apk::gzip("a") + test::apk::gzip(std::string(5000, 'b'));
    {
        core::GzipMembers members(chunks(file, 100), "test.apk", 1);
        ASSERT_TRUE(members.next_member());
        EXPECT_THAT([&] { (void)members.next_member(); },
                    ::testing::ThrowsMessage<Error>(
                        ::testing::HasSubstr("test.apk: more than 1 gzip members")));
    }
    {
        // A member left unread is skipped, but only as far as the caller allows.
        core::GzipMembers members(chunks(file, 100), "test.apk", 3);
        ASSERT_TRUE(members.next_member());
        EXPECT_THROW((void)members.next_member(0), Error); // "a" was never read
    }
    {
        core::GzipMembers members(chunks(file, 100), "test.apk", 3);
        ASSERT_TRUE(members.next_member());
        ASSERT_TRUE(members.next_member(1));
        EXPECT_THROW((void)members.next_member(100), Error);
    }
    {
        core::GzipMembers members(chunks(file, 100), "test.apk", 3);
        ASSERT_TRUE(members.next_member());
        ASSERT_TRUE(members.next_member(10));
        // Skipped whole, and hashed whole, without a bound.
        core::Hasher sha1(core::HashAlgorithm::sha1);
        members.hash_raw(sha1);
        EXPECT_FALSE(members.next_member());
        core::Hasher expected(core::HashAlgorithm::sha1);
        expected.update(std::string_view(file).substr(test::apk::gzip("a").size()));
        EXPECT_EQ(sha1.hex_digest(), expected.hex_digest());
    }
    const std::string cut = file.substr(0, file.size() - 3);
    core::GzipMembers members(chunks(cut, 100), "test.apk", 3);
    ASSERT_TRUE(members.next_member());
    (void)read_member(members, 10);
    ASSERT_TRUE(members.next_member());
    EXPECT_THAT([&] { (void)read_member(members, 10); },
                ::testing::ThrowsMessage<Error>(
                    ::testing::HasSubstr("test.apk: gzip member 2 ends early")));
    const std::string garbage = file + "trailing garbage";
    core::GzipMembers more(chunks(garbage, 100), "test.apk", 3);
    ASSERT_TRUE(more.next_member());
    ASSERT_TRUE(more.next_member());
    ASSERT_TRUE(more.next_member());
    EXPECT_THAT([&] { (void)read_member(more, 10); },
                ::testing::ThrowsMessage<Error>(
                    ::testing::HasSubstr("test.apk: gzip member 3 is not valid gzip data")));
}

} // namespace
} // namespace distill
