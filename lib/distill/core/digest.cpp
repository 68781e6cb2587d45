#include <array>

#include <openssl/evp.h>

#include <distill/core/digest.hpp>
#include <distill/core/error.hpp>
#include <distill/core/fs.hpp>

namespace distill::core {

struct Hasher::Impl {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
    const EVP_MD* md = nullptr;

    void reset() {
        if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
            throw Error("cannot initialise a hash context (OpenSSL)");
        }
    }
};

namespace {

const EVP_MD* evp_for(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::md5:
        return EVP_md5();
    case HashAlgorithm::sha1:
        return EVP_sha1();
    case HashAlgorithm::sha256:
        return EVP_sha256();
    }
    return EVP_sha256();
}

} // namespace

Hasher::Hasher(HashAlgorithm algorithm)
    : m_impl(std::make_unique<Impl>()) {
    if (!m_impl->ctx) {
        throw Error("cannot allocate a hash context (OpenSSL)");
    }
    m_impl->md = evp_for(algorithm);
    m_impl->reset();
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> data) {
    if (!data.empty() && EVP_DigestUpdate(m_impl->ctx.get(), data.data(), data.size()) != 1) {
        throw Error("hash update failed (OpenSSL)");
    }
}

void Hasher::update(std::string_view data) {
    update(std::as_bytes(std::span(data)));
}

std::string Hasher::raw_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(m_impl->ctx.get(), out.data(), &length) != 1) {
        throw Error("hash finalisation failed (OpenSSL)");
    }
    m_impl->reset();
    return {reinterpret_cast<const char*>(out.data()), length};
}

std::string Hasher::hex_digest() {
    return to_hex(raw_digest());
}

std::string to_hex(std::string_view bytes) {
    static constexpr std::string_view digits = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        hex += digits[byte >> 4U];
        hex += digits[byte & 0x0FU];
    }
    return hex;
}

std::string sha256_hex(std::string_view data) {
    Hasher hasher;
    hasher.update(data);
    return hasher.hex_digest();
}

std::string file_hex_digest(const std::filesystem::path& path, HashAlgorithm algorithm) {
    Hasher hasher(algorithm);
    read_file_chunks(path, [&](std::span<const std::byte> chunk) { hasher.update(chunk); });
    return hasher.hex_digest();
}

bool is_sha256_hex(std::string_view text) {
    return text.size() == 64 &&
           text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

} // namespace distill::core
