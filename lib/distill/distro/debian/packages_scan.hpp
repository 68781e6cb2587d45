#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace distill::distro::debian {

/// Reads a Debian Packages index through a FILE* that passes every byte on unchanged while
/// noting each stanza's Size and Priority, which libsolv's parser does not keep. It checks the
/// fields that become names and paths (Package, Version, Architecture, Filename, SHA256, Size)
/// against their grammar (fields.hpp), refuses a stanza without a Version, holds the index to
/// bounds (a hostile index must not keep the parser busy for minutes or fill the memory), and
/// stops the read once cancellation is requested. A stop shows as a read error to libsolv,
/// which so never takes in a bad field; error() then says why, naming the index and the line.
class PackagesScan {
public:
    /// Bounds on one index, far above what Debian's largest indexes need (about 100 MB, lines
    /// and stanzas under 100 KB, under 100,000 stanzas). libsolv's parser takes time quadratic
    /// in a stanza's continuation lines: the stanza bound keeps that to a fraction of a second.
    struct Limits {
        std::uint64_t max_line = 512U << 10U; ///< bytes of one line
        std::uint64_t max_stanza = 1U << 20U; ///< bytes of one stanza
        std::uint64_t max_total = 1U << 30U;  ///< decompressed bytes of the whole index
        std::uint64_t max_stanzas = 2'000'000;
        /// Most times the index may expand over its compressed size (`compressed`), past its
        /// first 64 MiB; Debian's compress about 5 times.
        std::uint64_t max_ratio = 100;
        std::uint64_t compressed = 0; ///< size of the file as served; 0: unknown
    };

    /// Scans what is read from `source` (not owned; it must outlive file()); `name` names the
    /// index in error messages.
    PackagesScan(std::FILE* source, std::string name, Limits limits);
    PackagesScan(const PackagesScan&) = delete;
    PackagesScan& operator=(const PackagesScan&) = delete;

    /// A FILE* that reads `source` and scans it; the caller closes it.
    [[nodiscard]] std::FILE* file();
    /// Whether reading the source failed.
    [[nodiscard]] bool failed() const noexcept { return m_failed; }
    /// Whether the source held binary data rather than a text index.
    [[nodiscard]] bool binary() const noexcept { return m_binary; }
    /// Why the scan stopped the read: a bound or a malformed stanza, naming the index and the
    /// line; empty when it did not.
    [[nodiscard]] const std::string& error() const noexcept { return m_error; }
    /// Whether the read stopped because cancellation was requested.
    [[nodiscard]] bool cancelled() const noexcept { return m_cancelled; }
    /// What the scan noted about one package.
    struct Noted {
        std::optional<std::uint64_t> size; ///< the Size field
        int priority = 0; ///< Priority as a rank: required 5, important 4, standard 3,
                          ///< optional 2, extra 1, absent 0
    };
    /// What was noted for this package, if its stanza was seen.
    [[nodiscard]] std::optional<Noted> noted(std::string_view name, std::string_view version,
                                             std::string_view arch) const;

private:
    static long read(void* cookie, char* buffer, std::size_t size);
    void feed(std::string_view data);
    void line(std::string_view text);
    void end_stanza();
    void refuse(std::string message);
    void check(std::string_view field, std::string_view value);

    std::FILE* m_source;
    std::string m_name;
    Limits m_limits;
    std::string m_error;
    bool m_cancelled = false;
    std::uint64_t m_line_number = 0;
    std::uint64_t m_stanza_line = 0; ///< where the current stanza starts
    std::uint64_t m_total = 0;
    std::uint64_t m_stanza_bytes = 0;
    std::uint64_t m_stanzas = 0;
    bool m_failed = false;
    bool m_binary = false;
    bool m_ended = false;
    std::string m_partial;
    std::string m_package;
    bool m_has_version = false;
    std::string m_version;
    std::string m_arch;
    Noted m_current;
    std::unordered_map<std::string, Noted> m_noted;
};

} // namespace distill::distro::debian
