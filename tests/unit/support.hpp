#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <distill/core/fs.hpp>
#include <distill/core/process.hpp>
#include <distill/unpack/package.hpp>

namespace distill::test {

/// The third-party fixtures: DISTILL_TESTDATA, default ../shared/testdata beside the
/// repository (DISTILL_REQUIRE_TESTDATA checks that one is there).
inline std::filesystem::path testdata_dir() {
    if (const char* env = std::getenv("DISTILL_TESTDATA"); env != nullptr && *env != '\0') {
        return env;
    }
    const auto repository =
        std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
    return repository.parent_path() / "shared" / "testdata";
}

/// The repository's own small fixtures (tests/data).
inline std::filesystem::path fixture_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "data";
}

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string(ci) == "true";
}

/// For a test that cannot run here (a fixture, a program or a service is missing): skips it
/// with the reason on a developer machine, and fails it under CI=true, where nothing may be
/// skipped, as skip_or_fail in tests/support/distill_test.py does. Like GTEST_SKIP() it returns
/// from the calling function (a test body or SetUp()). `reason` may chain with `<<`:
/// `DISTILL_SKIP_OR_FAIL("no test server: " << failure);`.
#define DISTILL_SKIP_OR_FAIL(reason)                                                               \
    do {                                                                                           \
        if (::distill::test::in_ci()) {                                                            \
            FAIL() << "FAIL (would skip, but CI must not): " << reason;                            \
        }                                                                                          \
        GTEST_SKIP() << reason;                                                                    \
    } while (0)

/// Use as `DISTILL_REQUIRE_TESTDATA("versions/deb-compare.txt");` at the top of a test.
#define DISTILL_REQUIRE_TESTDATA(relative)                                                         \
    do {                                                                                           \
        const auto distill_fixture_path = ::distill::test::testdata_dir() / (relative);            \
        if (!std::filesystem::exists(distill_fixture_path)) {                                      \
            DISTILL_SKIP_OR_FAIL("test data not found: " << distill_fixture_path                   \
                                                         << " (set DISTILL_TESTDATA)");            \
        }                                                                                          \
    } while (0)

/// Use as `DISTILL_REQUIRE_PROGRAM("keytool", "a JDK");` at the top of a test or SetUp(): a test
/// whose program is not in PATH is skipped, saying what to install (DISTILL_SKIP_OR_FAIL).
#define DISTILL_REQUIRE_PROGRAM(program, install)                                                  \
    do {                                                                                           \
        if (!::distill::core::program_exists(program)) {                                           \
            DISTILL_SKIP_OR_FAIL((program) << " not found in PATH (install " << (install) << ")"); \
        }                                                                                          \
    } while (0)

/// Somewhat compressible bytes that are not all alike.
inline std::string sample(std::size_t size) {
    std::string out;
    out.reserve(size);
    std::uint32_t state = 12345;
    while (out.size() < size) {
        state = state * 1103515245U + 12345U;
        out += fmt::format("line {} value {}\n", out.size() / 20, (state >> 16U) % 1000U);
    }
    out.resize(size);
    return out;
}

/// Decompresses with libarchive's "raw" format, an independent reader of gzip and zstd.
inline std::string decompress(const std::string& data) {
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                  &archive_read_free);
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_raw(reader.get());
    EXPECT_EQ(archive_read_open_memory(reader.get(), data.data(), data.size()), ARCHIVE_OK);
    archive_entry* entry = nullptr;
    EXPECT_EQ(archive_read_next_header(reader.get(), &entry), ARCHIVE_OK);
    std::string out;
    std::vector<char> buffer(1 << 16);
    for (la_ssize_t got;
         (got = archive_read_data(reader.get(), buffer.data(), buffer.size())) > 0;) {
        out.append(buffer.data(), static_cast<std::size_t>(got));
    }
    return out;
}

/// The entry of an unpacked package at `path` (as the package names it); throws when there is
/// none.
inline const unpack::RawEntry& find_entry(const unpack::UnpackedPackage& package,
                                          const std::string& path) {
    const auto found = std::find_if(package.entries.begin(), package.entries.end(),
                                    [&](const unpack::RawEntry& e) { return e.path == path; });
    if (found == package.entries.end()) {
        throw std::runtime_error("no entry " + path);
    }
    return *found;
}

/// The bytes of a regular file as the package's content pack holds them.
inline std::string pack_bytes(const unpack::UnpackedPackage& package,
                              const unpack::RawEntry& entry) {
    return core::read_file(package.pack).substr(entry.offset, entry.size);
}

/// A scratch directory for a plain TEST, removed afterwards.
class ScratchDir {
public:
    [[nodiscard]] const std::filesystem::path& path() const { return m_dir.path(); }

private:
    core::TempDir m_dir{"distill-test-"};
};

/// A fresh scratch directory per test, removed afterwards.
class ScratchTest : public ::testing::Test {
protected:
    [[nodiscard]] const std::filesystem::path& scratch() const { return m_dir.path(); }

    /// Writes `content` to scratch()/relative and returns the full path.
    std::filesystem::path write(const std::string& relative, const std::string& content) const {
        const auto path = scratch() / relative;
        std::filesystem::create_directories(path.parent_path());
        core::write_file_atomic(path, content);
        return path;
    }

private:
    core::TempDir m_dir{"distill-test-"};
};

} // namespace distill::test
