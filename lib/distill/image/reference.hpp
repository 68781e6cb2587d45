#pragma once

#include <string>
#include <string_view>

#include <distill/core/error.hpp>

namespace distill::image {

/// An image reference that breaks the distribution reference grammar (or names a digest where
/// a build needs a tag): a usage error, since it comes from the command line.
class ReferenceError : public Error {
public:
    explicit ReferenceError(const std::string& message)
        : Error(message, ExitCode::usage) {}
};

/// An image name and tag as the distribution reference grammar has them (what `docker tag` and
/// `podman tag` accept): `[host[:port]/]path[:tag]`.
struct Reference {
    std::string domain; ///< `host[:port]`; empty when the reference names no registry
    std::string path;   ///< lowercase components separated by `/`; empty for a bare tag
    std::string tag;    ///< `latest` when the text gave none

    /// Only a tag, no name (what parse_tag_option gives for `1.2`).
    [[nodiscard]] bool bare_tag() const noexcept { return path.empty(); }

    /// `[domain/]path:tag`, the name as it was written and the tag.
    [[nodiscard]] std::string str() const;

    /// The reference as docker resolves it: a name without a registry is on `docker.io`, and a
    /// one-component name there is under `library/` (`app:1` is `docker.io/library/app:1`).
    /// Containerd keeps images under this form, and it is the name `docker load` gives.
    [[nodiscard]] std::string qualified() const;
};

/// Parses a whole reference `[host[:port]/]path[:tag]`, the tag defaulting to `latest`. The
/// first component is the registry when it has a `.` or a `:`, or is `localhost`; path
/// components are lowercase letters and digits with `.`, `_`, `__` or dashes between them; the
/// tag is up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`; the name
/// is at most 255 characters. A digest (`@sha256:...`) is refused: a build makes a new image
/// and cannot choose its digest. Throws ReferenceError saying what is wrong.
[[nodiscard]] Reference parse_reference(std::string_view text);

/// Reads what `distill build --tag` takes: text without `/`, `:` or `@` is a bare tag
/// (`1.2`; the result has only `tag`), anything else must be a whole reference
/// (`registry.example.org/team/app:1.2`). Throws ReferenceError, with an example, when it is
/// neither.
[[nodiscard]] Reference parse_tag_option(std::string_view text);

/// The reference of an image called `name` (the manifest's name) with `tag` from
/// parse_tag_option: `tag` itself when it is a whole reference, else `name:TAG`. Throws
/// ReferenceError when `name` cannot be a repository name.
[[nodiscard]] Reference reference_for(std::string_view name, const Reference& tag);

/// Whether `text` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
[[nodiscard]] bool is_valid_tag(std::string_view text);

} // namespace distill::image
