// APKINDEX: every real index of the test data read through its archive, checked against
// MANIFEST.tsv (counts, DESCRIPTION, the C: and size of each .apk beside an index), and what a
// malformed index or archive makes the parser refuse.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <distill/core/error.hpp>
#include <distill/distro/alpine/apkindex.hpp>

#include "support.hpp"

namespace distill::distro::alpine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// The rows of alpine/MANIFEST.tsv: path, then its tab-separated columns.
std::map<std::string, std::vector<std::string>> manifest_rows() {
    std::map<std::string, std::vector<std::string>> rows;
    std::istringstream in(core::read_file(test::testdata_dir() / "alpine/MANIFEST.tsv"));
    std::string line;
    std::getline(in, line); // the header
    while (std::getline(in, line)) {
        std::vector<std::string> columns;
        std::istringstream cells(line);
        std::string cell;
        while (std::getline(cells, cell, '\t')) {
            columns.push_back(cell);
        }
        rows[columns.at(0)] = columns;
    }
    return rows;
}

/// The value of `key=` among a row's columns and their space-separated words
/// ("packages=4929" -> "4929").
std::string column(const std::vector<std::string>& row, std::string_view key) {
    for (const auto& cell : row) {
        std::istringstream words(cell);
        std::string word;
        while (words >> word) {
            if (word.starts_with(key) && word.size() > key.size() && word[key.size()] == '=') {
                return word.substr(key.size() + 1);
            }
        }
    }
    return {};
}

Index read_real(const std::string& relative, IndexFiles* files = nullptr) {
    const auto path = "alpine/" + relative;
    const auto data = core::read_file(test::testdata_dir() / path);
    auto read = read_index_archive(data, path);
    auto index = parse_index(read.apkindex, path + ": APKINDEX");
    if (files != nullptr) {
        *files = std::move(read);
    }
    return index;
}

const IndexEntry& find(const Index& index, std::string_view name) {
    const auto it = std::find_if(index.packages.begin(), index.packages.end(),
                                 [&](const IndexEntry& e) { return e.name == name; });
    if (it == index.packages.end()) {
        throw std::runtime_error("no package " + std::string(name));
    }
    return *it;
}

constexpr std::array<std::string_view, 8> k_indexes{
    "v3.19/main/x86_64/APKINDEX.tar.gz",     "v3.19/community/x86_64/APKINDEX.tar.gz",
    "v3.16/main/x86_64/APKINDEX.tar.gz",     "v3.17/main/aarch64/APKINDEX.tar.gz",
    "v3.19/iso-repo/x86_64/APKINDEX.tar.gz", "apko-testrepo/x86_64/APKINDEX.tar.gz",
    "apko-testrepo/aarch64/APKINDEX.tar.gz", "variants/rsa256-signed/APKINDEX.tar.gz",
};

TEST(AlpineApkindex, EveryRealIndexMatchesTheManifest) {
    DISTILL_REQUIRE_TESTDATA("alpine/MANIFEST.tsv");
    const auto rows = manifest_rows();
    std::size_t apks = 0;
    for (const auto relative : k_indexes) {
        SCOPED_TRACE(relative);
        const auto& row = rows.at(std::string(relative));
        IndexFiles files;
        const auto index = read_real(std::string(relative), &files);
        EXPECT_EQ(std::to_string(index.packages.size()), column(row, "packages"));
        auto description = column(row, "DESCRIPTION");
        description = description.substr(1, description.size() - 2); // quoted
        EXPECT_EQ(files.description, description);
        for (const auto& entry : index.packages) {
            EXPECT_EQ(entry.checksum.size(), 30U);
            EXPECT_FALSE(entry.version.empty());
            EXPECT_GT(entry.line, 0U);
            EXPECT_FALSE(entry.arch.empty()) << entry.name;
        }
        // Each .apk beside the index: its C: and file size are in the index.
        const auto folder = std::string(relative.substr(0, relative.rfind('/') + 1));
        for (const auto& [path, cells] : rows) {
            if (!path.starts_with(folder) || !path.ends_with(".apk")) {
                continue;
            }
            const auto pkg = column(cells, "pkg");
            const auto it =
                std::find_if(index.packages.begin(), index.packages.end(),
                             [&](const IndexEntry& e) { return e.name + "-" + e.version == pkg; });
            ASSERT_NE(it, index.packages.end()) << pkg;
            EXPECT_EQ("C:" + it->checksum, cells.at(7)) << pkg;
            EXPECT_EQ(std::to_string(it->size), cells.at(1)) << pkg;
            ++apks;
        }
    }
    // iso-repo 24, apko-testrepo 4 + 4, rsa256-signed 1.
    EXPECT_EQ(apks, 33U);
}

TEST(AlpineApkindex, RealFieldValues) {
    DISTILL_REQUIRE_TESTDATA("alpine/v3.19/main/x86_64/APKINDEX.tar.gz");
    const auto main = read_real("v3.19/main/x86_64/APKINDEX.tar.gz");
    const auto& musl = find(main, "musl");
    EXPECT_EQ(musl.checksum, "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=");
    EXPECT_EQ(musl.version, "1.2.4_git20230717-r4");
    EXPECT_EQ(musl.arch, "x86_64");
    EXPECT_EQ(musl.size, 407278U);
    EXPECT_EQ(musl.installed_size, 667648U);
    EXPECT_EQ(musl.description, "the musl c library (libc) implementation");
    EXPECT_EQ(musl.url, "https://musl.libc.org/");
    EXPECT_EQ(musl.license, "MIT");
    EXPECT_EQ(musl.origin, "musl");
    EXPECT_EQ(musl.maintainer, "Timo Teräs <timo.teras@iki.fi>");
    EXPECT_EQ(musl.build_time, 1699271358);
    EXPECT_EQ(musl.commit, "ca7f2ab5e88794e4e654b40776f8a92256f50639");
    EXPECT_TRUE(musl.depends.empty());
    EXPECT_THAT(musl.provides, ElementsAre("so:libc.musl-x86_64.so.1=1"));
    EXPECT_FALSE(musl.provider_priority.has_value());
    EXPECT_THAT(find(main, "busybox").depends, ElementsAre("so:libc.musl-x86_64.so.1"));
    const auto& zip = find(main, "7zip");
    EXPECT_EQ(zip.provider_priority, 100U);
    EXPECT_THAT(zip.provides, ElementsAre("7zip-virtual", "p7zip=23.01-r0", "cmd:7z=23.01-r0",
                                          "cmd:7zz=23.01-r0"));
    EXPECT_THAT(find(main, "7zip-doc").install_if, ElementsAre("docs", "7zip=23.01-r0"));

    const auto community = read_real("v3.19/community/x86_64/APKINDEX.tar.gz");
    const auto& r = find(community, "R"); // a one-letter name
    EXPECT_EQ(r.size, 23826838U);
    EXPECT_EQ(r.depends.size(), 25U);
    EXPECT_EQ(r.depends.front(), "R-mathlib");
    EXPECT_THAT(r.provides, ElementsAre("so:libR.so=0", "cmd:R=4.3.1-r1", "cmd:Rscript=4.3.1-r1"));

    const auto v316 = read_real("v3.16/main/x86_64/APKINDEX.tar.gz");
    EXPECT_THAT(find(v316, "busybox").provides,
                ElementsAre("/bin/sh", "cmd:busybox=1.35.0-r17", "cmd:sh=1.35.0-r17"));
    const auto v317 = read_real("v3.17/main/aarch64/APKINDEX.tar.gz");
    EXPECT_EQ(find(v317, "musl").checksum, "Q1dCsKJvMnxtpg1CoCw+thiaWORo8=");
    EXPECT_EQ(find(v317, "musl").arch, "aarch64");

    const auto iso = read_real("v3.19/iso-repo/x86_64/APKINDEX.tar.gz");
    const auto& base = find(iso, "alpine-base");
    EXPECT_EQ(base.depends.size(), 10U);
    EXPECT_EQ(base.depends.back(), "openrc");
    const auto apko = read_real("apko-testrepo/aarch64/APKINDEX.tar.gz");
    EXPECT_EQ(find(apko, "custom-ca-certs-2").installed_size, 4917U);
    EXPECT_EQ(find(apko, "custom-ca-certs-2").build_time, 0);
    const auto rsa256 = read_real("variants/rsa256-signed/APKINDEX.tar.gz");
    EXPECT_THAT(rsa256.packages.at(0).depends, ElementsAre("alpine-baselayout-data=3.2.0-r23",
                                                           "/bin/sh", "so:libc.musl-aarch64.so.1"));
}

TEST(AlpineApkindex, TheTimeAnIndexWasMadeComesFromItsSignedTarHeader) {
    DISTILL_REQUIRE_TESTDATA("alpine/v3.16/main/x86_64/APKINDEX.tar.gz");
    const auto made = [](const char* path) {
        return read_index_archive(core::read_file(test::testdata_dir() / path), path).made;
    };
    // 2024-06-18 15:36:36 UTC and 2022-11-21 22:04 UTC, as `tar -tv` lists them.
    EXPECT_EQ(made("alpine/v3.19/main/x86_64/APKINDEX.tar.gz"), 1718724996);
    EXPECT_GT(made("alpine/v3.19/main/x86_64/APKINDEX.tar.gz"),
              made("alpine/v3.16/main/x86_64/APKINDEX.tar.gz"));
}

TEST(AlpineApkindex, ParsesLargestIndexQuickly) {
    DISTILL_REQUIRE_TESTDATA("alpine/v3.19/community/x86_64/APKINDEX.tar.gz");
    const auto path = test::testdata_dir() / "alpine/v3.19/community/x86_64/APKINDEX.tar.gz";
    const auto files = read_index_archive(core::read_file(path), "community");
    const auto start = std::chrono::steady_clock::now();
    const auto index = parse_index(files.apkindex, "community: APKINDEX");
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    EXPECT_EQ(index.packages.size(), 17587U);
    RecordProperty("parse_seconds", std::to_string(took.count()));
    std::cout << "v3.19 community: " << files.apkindex.size() << " bytes, " << index.packages.size()
              << " packages parsed in " << took.count() << " s\n";
    EXPECT_LT(took.count(), 5.0);
}

constexpr std::string_view k_record = "C:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\n"
                                      "P:musl\n"
                                      "V:1.2.4-r4\n"
                                      "S:407278\n";

/// The message parse_index throws for `text`, or "" when it does not throw.
std::string refusal(std::string_view text, const IndexLimits& limits = {}) {
    try {
        (void)parse_index(text, "test/APKINDEX", limits);
    } catch (const VerificationError& error) {
        return error.what();
    }
    return {};
}

TEST(AlpineApkindex, MinimalAndEdgeRecords) {
    // Blank lines before, between and after; the last record needs no blank line after it.
    const auto index = parse_index(
        "\n\n" + std::string(k_record) + "\n\n\n" + std::string(k_record) + "P:zlib", "test");
    ASSERT_EQ(index.packages.size(), 2U);
    EXPECT_EQ(index.packages[0].line, 3U);
    EXPECT_EQ(index.packages[1].line, 10U);
    EXPECT_EQ(index.packages[1].name, "zlib");
    EXPECT_TRUE(parse_index("", "test").packages.empty());
    EXPECT_TRUE(parse_index("\n\n", "test").packages.empty());
}

TEST(AlpineApkindex, RepeatedFieldsDoAsApk) {
    // A scalar keeps its last value; D:, p:, i: and r: add up.
    const auto index =
        parse_index(std::string(k_record) + "S:1\nV:2.0-r0\nD:a b\nD:c\np:x\np:y  z\nk:1\nk:7\n"
                                            "r:old\nr:older\n",
                    "test");
    ASSERT_EQ(index.packages.size(), 1U);
    const auto& e = index.packages[0];
    EXPECT_EQ(e.size, 1U);
    EXPECT_EQ(e.version, "2.0-r0");
    EXPECT_THAT(e.depends, ElementsAre("a", "b", "c"));
    EXPECT_THAT(e.provides, ElementsAre("x", "y", "z"));
    EXPECT_THAT(e.replaces, ElementsAre("old", "older"));
    EXPECT_EQ(e.provider_priority, 7U);
}

TEST(AlpineApkindex, UnknownFieldsDoAsApk) {
    // Lowercase and installed-database fields are passed over; an unknown field of another
    // letter makes the record one apk cannot install, so it is left out.
    const auto index = parse_index(std::string(k_record) + "x:future\nq:5\nF:usr\nR:file\n\n" +
                                       std::string(k_record) + "X:needs a newer apk\n\n" +
                                       std::string(k_record) + "7:digit\n",
                                   "test");
    ASSERT_EQ(index.packages.size(), 1U);
    EXPECT_EQ(index.packages[0].line, 1U);
}

TEST(AlpineApkindex, MalformedRecordsNameTheLine) {
    const std::string good(k_record);
    const auto at = [](std::string_view message, std::string_view line) {
        EXPECT_THAT(std::string(message),
                    HasSubstr(std::string("test/APKINDEX: line ") + std::string(line) + ":"));
    };
    at(refusal(good + "\n" + "C:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\nV:1\n"), "6");
    EXPECT_THAT(refusal(good + "\nC:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\nV:1\n"), HasSubstr("no P:"));
    EXPECT_THAT(refusal("P:a\nC:Q1kqFQHSGzXGq3k7gQTqb+GxbmnOw=\n"), HasSubstr("no V:"));
    EXPECT_THAT(refusal("P:a\nV:1\n"), HasSubstr("no C:"));
    // Bad checksums: too short, not base64, not canonical, SHA-256 length, old MD5 hex.
    for (const auto* bad : {"Q1kqFQHSGzXGq3k7gQTqb+GxbmnO=", "Q1kqFQHSGzXGq3k7gQTqb+Gxbmn*w=",
                            "Q1kqFQHSGzXGq3k7gQTqb+GxbmnOx=", "Q2kqFQHSGzXGq3k7gQTqb+GxbmnOw=",
                            "d41d8cd98f00b204e9800998ecf8427e", ""}) {
        SCOPED_TRACE(bad);
        const auto message = refusal("P:a\nV:1\nC:" + std::string(bad) + "\n");
        at(message, "3");
        EXPECT_THAT(message, HasSubstr("not a package checksum"));
    }
    // Numbers: overflow, sign, trailing text, empty.
    at(refusal(good + "S:18446744073709551616\n"), "5");
    at(refusal(good + "S:2000000000000\n"), "5"); // past a terabyte
    at(refusal(good + "I:-1\n"), "5");
    at(refusal(good + "t:12abc\n"), "5");
    at(refusal(good + "t:9223372036854775808\n"), "5");
    at(refusal(good + "k:4294967296\n"), "5");
    at(refusal(good + "S:\n"), "5");
    EXPECT_EQ(
        parse_index(good + "t:9223372036854775807\nk:4294967295\n", "t").packages.at(0).build_time,
        9223372036854775807);
    // Control characters, CR line ends, text that is not UTF-8.
    at(refusal(good + "T:bell\a\n"), "5");
    at(refusal(good + "T:crlf\r\n"), "5");
    at(refusal(good + "T:\x1b[31mred\n"), "5");
    at(refusal(good + "T:caf\xe9\n"), "5");
    EXPECT_THAT(refusal(good + "T:\x1b[31m\n"), HasSubstr("\\x1b"));
    // Not `X:value`.
    at(refusal(good + "P musl\n"), "5");
    at(refusal(good + "x\n"), "5");
    // Names outside the grammar; a version with a space.
    at(refusal("P:-lead\n"), "1");
    at(refusal("P:sl/ash\n"), "1");
    at(refusal("P:\n"), "1");
    at(refusal(good + "V:1 2\n"), "5");
    at(refusal(good + "V:\n"), "5");
    at(refusal(good + "A:x86 64\n"), "5");
}

TEST(AlpineApkindex, BoundsAreEnforced) {
    const std::string good(k_record);
    IndexLimits small;
    small.max_line = 64;
    EXPECT_THAT(refusal(good + "T:" + std::string(70, 'x') + "\n", small),
                HasSubstr("line 5: longer than 64 bytes"));
    EXPECT_THAT(refusal(good + "T:" + std::string(300U << 10U, 'x') + "\n"),
                HasSubstr("line 5: longer than"));
    small = {};
    small.max_records = 3;
    const auto four = good + "\n" + good + "\n" + good + "\n" + good;
    EXPECT_EQ(refusal(good + "\n" + good + "\n" + good, small), "");
    EXPECT_THAT(refusal(four, small), HasSubstr("more than 3 records"));
    small = {};
    small.max_tokens = 2;
    EXPECT_THAT(refusal(good + "D:a b\nD:c\n", small), HasSubstr("line 6: D: more than 2 tokens"));
    small = {};
    small.max_token = 4;
    EXPECT_THAT(refusal(good + "p:abcde\n", small), HasSubstr("line 5:"));
    small = {};
    small.max_total = 16;
    EXPECT_THAT(refusal(good, small), HasSubstr("longer than 16 bytes"));
    EXPECT_THAT(refusal("P:" + std::string(256, 'a') + "\n"), HasSubstr("line 1:"));
}

// Archives built here byte by byte: tar headers (ustar) and gzip members, so that each can
// break one rule.

std::string tar_header(std::string_view name, std::uint64_t size, char type = '0') {
    std::string header(512, '\0');
    std::memcpy(header.data(), name.data(), std::min<std::size_t>(name.size(), 100));
    std::memcpy(header.data() + 100, "0000644", 7);
    std::memcpy(header.data() + 108, "0000000", 7);
    std::memcpy(header.data() + 116, "0000000", 7);
    const auto octal = fmt::format("{:011o}", size);
    std::memcpy(header.data() + 124, octal.data(), 11);
    std::memcpy(header.data() + 136, "00000000000", 11);
    header[156] = type;
    std::memcpy(header.data() + 257,
                "ustar\0"
                "00",
                8);
    std::memset(header.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (const char c : header) {
        sum += static_cast<unsigned char>(c);
    }
    const auto checksum = fmt::format("{:06o}", sum);
    std::memcpy(header.data() + 148, checksum.data(), 6);
    header[154] = '\0';
    return header;
}

std::string tar_entry(std::string_view name, std::string_view data, char type = '0') {
    auto out = tar_header(name, type == '0' ? data.size() : 0, type);
    if (type == '0') {
        out.append(data);
        out.append((512 - data.size() % 512) % 512, '\0');
    }
    return out;
}

std::string gzip_member(std::string_view data) {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

/// An index archive as apk writes one: a signature tar without end-of-archive blocks, then a
/// tar of `entries` that has them, each its own gzip member.
std::string index_archive(const std::string& entries) {
    return gzip_member(tar_entry(".SIGN.RSA.key.rsa.pub", "signature")) +
           gzip_member(entries + std::string(1024, '\0'));
}

std::string archive_refusal(const std::string& data) {
    try {
        (void)read_index_archive(data, "test/APKINDEX.tar.gz");
    } catch (const VerificationError& error) {
        return error.what();
    }
    return {};
}

TEST(AlpineApkindex, ArchiveEntries) {
    const auto text = std::string(k_record);
    const auto files = read_index_archive(
        index_archive(tar_entry("DESCRIPTION", "v3.99") + tar_entry("APKINDEX", text)), "test");
    EXPECT_EQ(files.description, "v3.99");
    EXPECT_EQ(files.apkindex, text);

    EXPECT_THAT(
        archive_refusal(index_archive(tar_entry("APKINDEX", text) + tar_entry("APKINDEX", text))),
        HasSubstr("a second `APKINDEX`"));
    EXPECT_THAT(
        archive_refusal(index_archive(tar_entry("DESCRIPTION", "a") +
                                      tar_entry("DESCRIPTION", "b") + tar_entry("APKINDEX", text))),
        HasSubstr("a second `DESCRIPTION`"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("DESCRIPTION", "a"))),
                HasSubstr("no APKINDEX"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("../APKINDEX", text))),
                HasSubstr("`../APKINDEX` is not a name inside"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("/etc/APKINDEX", text))),
                HasSubstr("not a name inside"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("a/../../b", text))),
                HasSubstr("not a name inside"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("APKINDEX", "", '5'))),
                HasSubstr("`APKINDEX` is not a regular file"));
    EXPECT_THAT(archive_refusal(index_archive(tar_entry("APKINDEX", "", '2'))),
                HasSubstr("not a regular file"));
    // A header that claims more than the bound is refused before anything is expanded.
    EXPECT_THAT(archive_refusal(index_archive(tar_header("APKINDEX", 300U << 20U))),
                HasSubstr("expands beyond"));
    std::string many;
    for (int i = 0; i < 70; ++i) {
        many += tar_entry(fmt::format("f{}", i), "x");
    }
    EXPECT_THAT(archive_refusal(index_archive(many)), HasSubstr("more than 64 entries"));
    // Not gzip: a bare tar, and text.
    EXPECT_THAT(archive_refusal(tar_entry("APKINDEX", text) + std::string(1024, '\0')),
                HasSubstr("not gzip-compressed"));
    EXPECT_NE(archive_refusal("APKINDEX"), "");
    // Cut short.
    const auto whole = index_archive(tar_entry("APKINDEX", text));
    EXPECT_NE(archive_refusal(whole.substr(0, whole.size() - 20)), "");
}

} // namespace
} // namespace distill::distro::alpine
