#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <distill/core/error.hpp>

// The one place where data from outside (an index, a lock, a package, a cache entry, a server,
// an image layout) becomes part of a file name on the host or in an image. Everything that
// builds such a path passes the outside part through safe_component(), so that no field can
// add a directory level, climb with `..` or hide a line break in a listing.
namespace distill::core {

/// A name from outside data that cannot be one component of a path. The message names what
/// the name is and where it came from.
class UnsafePathError : public Error {
public:
    explicit UnsafePathError(const std::string& message)
        : Error(message, ExitCode::unsafe_content) {}
};

/// The longest component most file systems take (NAME_MAX).
inline constexpr std::size_t k_max_component = 255;

/// Why `name` cannot be one path component, or nullopt when it can: empty, `.` or `..`, a
/// `/`, a NUL or another control character (a newline among them), or more than
/// k_max_component bytes.
[[nodiscard]] std::optional<std::string> component_problem(std::string_view name);

/// `name` as it is, when it can be one path component (component_problem()); otherwise an
/// UnsafePathError naming `what` ("package name from http://.../index").
[[nodiscard]] std::string safe_component(std::string_view name, std::string_view what);

} // namespace distill::core
