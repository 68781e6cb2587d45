#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace distill::core {

/// The hash functions distill needs: SHA-256 for everything it verifies, MD5 for the
/// md5sums files of package databases, SHA-1 for the Java keystore's integrity digest.
enum class HashAlgorithm { md5, sha1, sha256 };

/// An incremental hash over OpenSSL's EVP interface.
class Hasher {
public:
    explicit Hasher(HashAlgorithm algorithm = HashAlgorithm::sha256);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    /// Feeds bytes into the hash.
    void update(std::span<const std::byte> data);
    /// Feeds the bytes of a string into the hash.
    void update(std::string_view data);
    /// Finishes the hash and returns it as lowercase hex; the hasher is reset afterwards.
    [[nodiscard]] std::string hex_digest();
    /// Finishes the hash and returns its raw bytes; the hasher is reset afterwards.
    [[nodiscard]] std::string raw_digest();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// The lowercase hex SHA-256 of a string.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// The lowercase hex hash of a whole file, read in chunks.
[[nodiscard]] std::string file_hex_digest(const std::filesystem::path& path,
                                          HashAlgorithm algorithm = HashAlgorithm::sha256);

/// Whether `text` is a lowercase hex SHA-256 (64 characters of [0-9a-f]).
[[nodiscard]] bool is_sha256_hex(std::string_view text);

/// Lowercase hex of raw bytes.
[[nodiscard]] std::string to_hex(std::string_view bytes);

} // namespace distill::core
