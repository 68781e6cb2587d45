#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace distill::distro::debian {

/// Reads a Debian Packages index through a FILE* that passes every byte on unchanged while
/// noting each stanza's Size and Priority, which libsolv's parser does not keep, and checking
/// the fields that become names and paths (Package, Version, Architecture, Filename, SHA256,
/// Size) against their grammar (fields.hpp). The first bad field ends the stream with a read
/// error, so that libsolv never takes it in, and problem() says what and where.
class PackagesScan {
public:
    /// Scans what is read from `source` (not owned; it must outlive file()).
    explicit PackagesScan(std::FILE* source);
    PackagesScan(const PackagesScan&) = delete;
    PackagesScan& operator=(const PackagesScan&) = delete;

    /// A FILE* that reads `source` and scans it; the caller closes it.
    [[nodiscard]] std::FILE* file();
    /// Whether reading the source failed.
    [[nodiscard]] bool failed() const noexcept { return m_failed; }
    /// Whether the source held binary data rather than a text index.
    [[nodiscard]] bool binary() const noexcept { return m_binary; }
    /// The first field that broke its grammar: "line N: Field `value`: why"; empty if none.
    [[nodiscard]] const std::string& problem() const noexcept { return m_problem; }
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
    void check(std::string_view field, std::string_view value);
    void fail(std::uint64_t line, std::string why);

    std::FILE* m_source;
    bool m_failed = false;
    bool m_binary = false;
    bool m_ended = false;
    std::string m_problem;
    std::uint64_t m_line = 0;        ///< the number of the line being read (1-based)
    std::uint64_t m_stanza_line = 0; ///< where the stanza being read starts
    bool m_seen_version = false;
    std::string m_partial;
    std::string m_name;
    std::string m_version;
    std::string m_arch;
    Noted m_current;
    std::unordered_map<std::string, Noted> m_noted;
};

} // namespace distill::distro::debian
