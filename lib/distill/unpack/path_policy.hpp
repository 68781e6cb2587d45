#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <distill/manifest/manifest.hpp>

namespace distill::unpack {

/// Whether an absolute image path ("/usr/share/doc/x/copyright") matches a glob: `*` and `?` stay
/// within one component, `[...]` is a class, and a `**` component matches any number of
/// components (none included). A pattern without a leading '/' is taken as absolute.
[[nodiscard]] bool path_glob_match(std::string_view pattern, std::string_view path);

/// Which package files an image keeps. By default documentation, manual and info pages,
/// translations and lintian overrides are dropped, while each package's copyright file is kept;
/// the manifest's `paths.include` keeps what would be dropped, `paths.exclude` drops more, and
/// `paths.setuid` names the files that keep their setuid and setgid bits.
class PathPolicy {
public:
    /// A policy that keeps everything and drops every setuid bit.
    PathPolicy() = default;
    /// The default policy with the manifest's `paths` rules on top.
    [[nodiscard]] static PathPolicy for_manifest(const manifest::Manifest& manifest);

    /// Whether the file at `path` (relative to the image root, "usr/share/doc/x") is kept.
    [[nodiscard]] bool keeps(std::string_view path) const;
    /// Whether the file at `path` keeps its setuid and setgid bits.
    [[nodiscard]] bool keeps_setuid(std::string_view path) const;

private:
    std::vector<std::string> m_drop;    ///< the default policy's drops
    std::vector<std::string> m_keep;    ///< the default policy's exceptions to them
    std::vector<std::string> m_include; ///< manifest: kept whatever else says
    std::vector<std::string> m_exclude; ///< manifest: dropped
    std::vector<std::string> m_setuid;  ///< manifest: keep setuid/setgid
};

} // namespace distill::unpack
