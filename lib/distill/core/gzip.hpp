#pragma once

#include <string>
#include <string_view>

namespace distill::core {

/// The expanded bytes of gzip data (every member of a multi-member file), with zlib. Corrupt
/// data is an Error naming `origin`.
[[nodiscard]] std::string gunzip(std::string_view data, std::string_view origin);

} // namespace distill::core
