#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace distill::assemble {

/// The applets a busybox binary holds, from the table of their names it carries (NUL-separated
/// and sorted, starting with `[` and `[[`), as `busybox --list` would print them, without
/// running it (it may be built for another architecture). The binary is outside data: the
/// table must be sorted, of plain names (letters, digits, `_`, `-`, `.`, `[`, `]`, at most
/// 64 characters), at most 1,000 of them, and hold `sh`; anything else is an Error.
[[nodiscard]] std::vector<std::string> busybox_applets(std::string_view binary);

} // namespace distill::assemble
