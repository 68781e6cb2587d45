#pragma once

#include <optional>
#include <string>
#include <string_view>

// Base64 (RFC 4648, with padding), through OpenSSL's encoder.
namespace distill::core {

/// `bytes` in base64, padded.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

/// The bytes `text` encodes (padded base64, no whitespace), or nullopt when it is not base64.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

} // namespace distill::core
