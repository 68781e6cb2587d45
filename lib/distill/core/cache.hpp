#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>

namespace distill::core {

/// A file in the cache is not what its name or its record says (a flipped byte, an edit): it is
/// never used; the caller drops it and fetches or makes it again.
class CacheDamageError : public VerificationError {
public:
    CacheDamageError(const std::string& message, std::filesystem::path path)
        : VerificationError(message)
        , m_path(std::move(path)) {}
    /// The damaged file.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return m_path; }

private:
    std::filesystem::path m_path;
};

/// What the cache remembers about a URL whose content cannot be named by hash in advance
/// (a signed release file): the validators for a conditional request, and the verified blob it
/// gave. A record is written only after its blob was verified.
struct UrlRecord {
    std::string url;
    std::string etag;
    std::string last_modified;
    std::string sha256; ///< the blob holding the last verified response body
};

/// The on-disk cache, shared safely by concurrent processes:
///   blobs/sha256/<hex>   verified content, named by its SHA-256 (written atomically)
///   urls/<hex>.json      UrlRecord for the URL whose SHA-256 is <hex>
///   derived/<kind>/<key> data computed from verified blobs (parsed indexes), keyed by input
/// Every file appears by rename of a complete temporary file, so a reader sees either nothing
/// or the whole file, and two writers of one name write the same bytes.
class Cache {
public:
    explicit Cache(std::filesystem::path root);

    /// $XDG_CACHE_HOME/distill, else $HOME/.cache/distill.
    [[nodiscard]] static std::filesystem::path default_root();

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return m_root; }

    /// Where the blob with this SHA-256 lives (whether or not it exists yet).
    [[nodiscard]] std::filesystem::path blob_path(std::string_view sha256) const;
    /// Whether a verified blob with this SHA-256 is present.
    [[nodiscard]] bool has_blob(std::string_view sha256) const;
    /// A temporary file in the blob directory; commit it with `commit(blob_path(hash))` once
    /// its content has been verified.
    [[nodiscard]] AtomicFile new_blob_file() const;

    /// The record stored for `url`, if any and if its blob is still present.
    [[nodiscard]] std::optional<UrlRecord> url_record(std::string_view url) const;
    /// Stores the record for `record.url` (atomically replacing an older one).
    void store_url_record(const UrlRecord& record) const;

    /// Where derived data of `kind` for `key` lives, e.g. derived_path("solv", hash).
    [[nodiscard]] std::filesystem::path derived_path(std::string_view kind,
                                                     std::string_view key) const;

private:
    std::filesystem::path m_root;
};

} // namespace distill::core
