#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace distill::distro::debian {

/// Reads a Debian Packages index through a FILE* that passes every byte on unchanged while
/// noting each stanza's Size and Priority, which libsolv's parser does not keep.
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

    std::FILE* m_source;
    bool m_failed = false;
    bool m_binary = false;
    bool m_ended = false;
    std::string m_partial;
    std::string m_name;
    std::string m_version;
    std::string m_arch;
    Noted m_current;
    std::unordered_map<std::string, Noted> m_noted;
};

} // namespace distill::distro::debian
